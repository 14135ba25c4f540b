# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Client credentials grant (RFC 6749 §4.4). `scope`: scope items (an Array, or one String
    # item); `resources`: RFC 8707 resource indicators; `audience`: the non-standard audience
    # parameter some servers use. Returns an Oidc::Token. Blocks (GVL released) for one
    # token-endpoint request, plus discovery on first use.
    #
    # `cached: true` goes through the client's token cache (OIDC_PARAM_USE_CACHE): the same
    # scope set, resources and audience reuse one token until shortly before it expires, and
    # concurrent callers share a single request. `params`: custom form parameters. `timeout:`
    # (seconds) and `cancel:` (an Oidc::Cancel) as for every request.
    def client_credentials(scope: nil, resources: nil, audience: nil, cached: false, params: nil, timeout: nil,
                           cancel: nil)
      perform(:client_credentials, scope: scope, resource: resources, audience: audience,
                                   use_cache: cached ? 1 : nil, params: params, timeout: timeout, cancel: cancel) do |r|
        Token.from_response(r)
      end
    end
  end
end
