# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Revoke a token (RFC 7009) with this client's authentication; `token_type_hint` is
    # "access_token" or "refresh_token". Revoking an unknown token succeeds. Returns nil.
    def revoke(token, token_type_hint: nil)
      need(:oidc_oauth_revoke)
      t = FFISupport.bytes(token)
      h, h_len = opt_arg(token_type_hint)
      native_call { |ptr, err| Native.oidc_oauth_revoke(ptr, t, t.bytesize, h, h_len, err) }
      nil
    end
  end

  module Native
    attach_optional :oidc_oauth_revoke, %i[pointer pointer size_t pointer size_t pointer], :uint32, blocking: true
  end
end
