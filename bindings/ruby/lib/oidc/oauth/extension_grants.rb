# frozen_string_literal: true

module Oidc
  class OAuthClient
    TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"

    # Token exchange (RFC 8693). `subject_token_type` defaults to the access-token type; the
    # other keywords and `params` become request parameters (`resources` -> repeated
    # `resource`). The response must carry issued_token_type. Returns an Oidc::Token. Blocks for
    # one token request.
    def token_exchange(subject_token, subject_token_type: nil, audience: nil, resources: [], scope: nil,
                       requested_token_type: nil, actor_token: nil, actor_token_type: nil, params: {})
      need(:oidc_oauth_token_exchange)
      t = FFISupport.bytes(subject_token)
      tt, tt_len = opt_arg(subject_token_type)
      res = Array(resources).map(&:to_s)
      extra = { audience: audience, resource: res.empty? ? nil : res, scope: scope_arg(scope),
                requested_token_type: requested_token_type, actor_token: actor_token,
                actor_token_type: actor_token_type }.merge(params.to_h)
      p, p_len = opt_arg(params_json(extra))
      token_call do |ptr, out, err|
        Native.oidc_oauth_token_exchange(ptr, t, t.bytesize, tt, tt_len, p, p_len, out, err)
      end
    end

    # JWT bearer grant (RFC 7523 §2.1): a ready `assertion`, or a `subject` for which liboidc
    # signs one with the client's private key (private_key:; iss = client id, aud = issuer,
    # 60 s). Returns an Oidc::Token. Blocks for one token request.
    def jwt_bearer(assertion: nil, subject: nil, scope: nil)
      need(:oidc_oauth_jwt_bearer)
      raise ArgumentError, "jwt_bearer needs assertion: or subject:" if assertion.nil? && subject.nil?

      a, a_len = opt_arg(assertion)
      s, s_len = opt_arg(subject)
      sc, sc_len = opt_arg(scope_arg(scope))
      token_call { |ptr, out, err| Native.oidc_oauth_jwt_bearer(ptr, a, a_len, s, s_len, sc, sc_len, out, err) }
    end

    # Any grant at the token endpoint: `grant_type` plus `params` (Strings, numbers, booleans or
    # Arrays of Strings), authenticated like every token request (and DPoP-bound with a DPoP
    # key). Extra response members are in Token#raw / Token#[]. Blocks for one token request.
    def custom_grant(grant_type, params = {})
      need(:oidc_oauth_custom_grant)
      g = FFISupport.bytes(grant_type)
      p, p_len = opt_arg(params_json(params))
      token_call { |ptr, out, err| Native.oidc_oauth_custom_grant(ptr, g, g.bytesize, p, p_len, out, err) }
    end
  end

  module Native
    attach_optional :oidc_oauth_token_exchange,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32, blocking: true
    attach_optional :oidc_oauth_jwt_bearer,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer], :uint32, blocking: true
    attach_optional :oidc_oauth_custom_grant,
                    %i[pointer pointer size_t pointer size_t pointer pointer], :uint32, blocking: true
  end
end
