# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Call the UserInfo endpoint with `access_token` (a String, or an Oidc::Token: its
    # token_type then goes along); a signed response is validated by liboidc. With
    # `expected_subject` (the ID token's sub) another subject raises Oidc::SubjectMismatch.
    # RFC 6750 errors raise Oidc::InvalidToken / Oidc::InsufficientScope. `token_type`:
    # "DPoP" or "Bearer" (liboidc's default: DPoP when the client has a DPoP key). Returns
    # Oidc::Claims.
    def userinfo(access_token, expected_subject: nil, token_type: nil, timeout: nil, cancel: nil)
      if access_token.is_a?(Token)
        token_type ||= access_token.token_type
        access_token = access_token.access_token
      end
      perform(:userinfo, access_token:, expected_sub: expected_subject, token_type:, timeout:, cancel:) do |r|
        Claims.from_json(r.json)
      end
    end
  end
end
