# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Authorization code grant with PKCE: exchange the `code` from the redirect (see
    # #parse_authorization_response) for tokens. `redirect_uri` as in the authorization request;
    # `code_verifier` and `nonce` from the Oidc::Pkce used for it (or pass `pkce:`);
    # `resources` RFC 8707 URIs. An ID token in the response is validated (signature, issuer,
    # audience, times, nonce) before this returns. Returns an Oidc::Token. Blocks (GVL
    # released) for one token request, plus discovery and keys on first use.
    def exchange_code(code:, redirect_uri:, code_verifier: nil, nonce: nil, resources: [], pkce: nil)
      need(:oidc_oauth_exchange_code)
      code_verifier ||= pkce&.code_verifier
      nonce ||= pkce&.nonce
      c = FFISupport.bytes(code)
      r = FFISupport.bytes(redirect_uri)
      v, v_len = opt_arg(code_verifier)
      n, n_len = opt_arg(nonce)
      res, res_len = opt_arg(resource_arg(resources))
      token_call do |ptr, out, err|
        Native.oidc_oauth_exchange_code(ptr, c, c.bytesize, r, r.bytesize, v, v_len, n, n_len, res, res_len, out, err)
      end
    end

    # Refresh token grant: `refresh_token` is a String or the Oidc::Token that holds it. The
    # response's (rotated) refresh token replaces the old one: keep the returned Token's. An ID
    # token in the response is validated. Returns an Oidc::Token. Blocks for one token request.
    def refresh(refresh_token, scope: nil, resources: [])
      need(:oidc_oauth_refresh)
      refresh_token = refresh_token.refresh_token if refresh_token.is_a?(Token)
      raise ArgumentError, "no refresh token" if refresh_token.nil?

      t = FFISupport.bytes(refresh_token)
      s, s_len = opt_arg(scope_arg(scope))
      res, res_len = opt_arg(resource_arg(resources))
      token_call { |ptr, out, err| Native.oidc_oauth_refresh(ptr, t, t.bytesize, s, s_len, res, res_len, out, err) }
    end
  end

  module Native
    attach_optional :oidc_oauth_exchange_code,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer size_t pointer size_t pointer
                       pointer], :uint32, blocking: true
    attach_optional :oidc_oauth_refresh,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32, blocking: true
  end
end
