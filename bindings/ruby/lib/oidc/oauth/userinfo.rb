# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Call the UserInfo endpoint with `access_token`; a signed response is validated by
    # liboidc. With `expected_subject` (the ID token's sub) another subject raises
    # Oidc::SubjectMismatch. RFC 6750 errors raise Oidc::InvalidToken / Oidc::InsufficientScope.
    # Returns Oidc::Claims.
    def userinfo(access_token, expected_subject: nil)
      need(:oidc_oauth_userinfo)
      t = FFISupport.bytes(access_token)
      s, s_len = opt_arg(expected_subject)
      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_userinfo(ptr, t, t.bytesize, s, s_len, out, len, err)
      end
      Claims.from_json(json)
    end
  end

  module Native
    attach_optional :oidc_oauth_userinfo,
                    %i[pointer pointer size_t pointer size_t pointer pointer pointer], :uint32, blocking: true
  end
end
