# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Revoke a token (RFC 7009) with this client's authentication; `token_type_hint` is
    # "access_token" or "refresh_token". Revoking an unknown token succeeds. Returns nil.
    def revoke(token, token_type_hint: nil, params: nil, timeout: nil, cancel: nil)
      perform(:revoke, token:, token_type_hint:, params:, timeout:, cancel:) { nil }
    end
  end
end
