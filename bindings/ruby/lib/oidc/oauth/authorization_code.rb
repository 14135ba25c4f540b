# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Authorization code grant: exchange the `code` from the redirect (see
    # #parse_authorization_response) for tokens. `redirect_uri` as in the authorization request;
    # `code_verifier` and `nonce` from the Oidc::AuthorizationRequest of #authorization_url (or
    # pass it as `pkce:`, for both); `resources` RFC 8707 URIs. An ID token in the response is
    # validated (signature, issuer, audience, times, nonce) before this returns. Returns an
    # Oidc::Token. Blocks (GVL released) for one token request, plus discovery and keys on
    # first use.
    def exchange_code(code:, redirect_uri: nil, code_verifier: nil, nonce: nil, resources: nil, pkce: nil,
                      params: nil, timeout: nil, cancel: nil)
      code_verifier ||= pkce&.code_verifier
      nonce ||= pkce&.nonce
      perform(:authorization_code, code: code, redirect_uri: redirect_uri, code_verifier: code_verifier,
                                   nonce: nonce, resource: resources, params: params, timeout: timeout,
                                   cancel: cancel) do |r|
        Token.from_response(r)
      end
    end

    # Refresh token grant: `refresh_token` is a String or the Oidc::Token that holds it. The
    # response's (rotated) refresh token replaces the old one: keep the returned Token's. An ID
    # token in the response is validated. Returns an Oidc::Token. Blocks for one token request.
    def refresh(refresh_token, scope: nil, resources: nil, params: nil, timeout: nil, cancel: nil)
      refresh_token = refresh_token.refresh_token if refresh_token.is_a?(Token)
      perform(:refresh, refresh_token: refresh_token, scope: scope, resource: resources, params: params,
                        timeout: timeout, cancel: cancel) do |r|
        Token.from_response(r)
      end
    end
  end
end
