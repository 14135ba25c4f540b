# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Client credentials grant (RFC 6749 §4.4). `scope` is a String or an Array;
    # `resources` are RFC 8707 resource indicators; `audience` is the non-standard audience
    # parameter some servers use. Returns an Oidc::Token. Blocks (GVL released) for one
    # token-endpoint request, plus discovery on first use.
    def client_credentials(scope: nil, resources: [], audience: nil)
      scope = scope.join(" ") if scope.is_a?(Array)
      resource = Array(resources).map(&:to_s)
      raise ArgumentError, "a resource indicator cannot contain a space" if resource.any? { |r| r.include?(" ") }

      s, s_len = opt_arg(scope)
      r, r_len = opt_arg(resource.empty? ? nil : resource.join(" "))
      a, a_len = opt_arg(audience)
      token_call do |ptr, out, err|
        Native.oidc_oauth_client_credentials(ptr, s, s_len, r, r_len, a, a_len, out, err)
      end
    end
  end

  module Native
    attach_function :oidc_oauth_client_credentials,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32,
                    blocking: true
  end
end
