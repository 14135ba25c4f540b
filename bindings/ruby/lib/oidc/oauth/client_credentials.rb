# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Client credentials grant (RFC 6749 §4.4). `scope` is a String or an Array;
    # `resources` are RFC 8707 resource indicators; `audience` is the non-standard audience
    # parameter some servers use. Returns an Oidc::Token. Blocks (GVL released) for one
    # token-endpoint request, plus discovery on first use.
    #
    # `cached: true` goes through the client's token cache: the same scope set, resources and
    # audience reuse one token until `expires_in` minus 30 s, and concurrent callers share a
    # single request (then it blocks only on a miss, or while another thread's request for the
    # same key is in flight).
    def client_credentials(scope: nil, resources: [], audience: nil, cached: false)
      s, s_len = opt_arg(scope_arg(scope))
      r, r_len = opt_arg(resource_arg(resources))
      a, a_len = opt_arg(audience)
      if cached
        need(:oidc_oauth_client_credentials_cached)
        return token_call do |ptr, out, err|
          Native.oidc_oauth_client_credentials_cached(ptr, s, s_len, r, r_len, a, a_len, out, err)
        end
      end
      token_call do |ptr, out, err|
        Native.oidc_oauth_client_credentials(ptr, s, s_len, r, r_len, a, a_len, out, err)
      end
    end
  end

  module Native
    attach_function :oidc_oauth_client_credentials,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32,
                    blocking: true
    attach_optional :oidc_oauth_client_credentials_cached,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32,
                    blocking: true
  end
end
