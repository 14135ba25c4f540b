# frozen_string_literal: true

module Oidc
  class OAuthClient
    TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"

    # Token exchange (RFC 8693). `subject_token_type` defaults (in liboidc) to the access-token
    # type; `audience` one or more, `resources` RFC 8707 URIs, `scope` items; `params` custom
    # parameters. The response must carry issued_token_type. Returns an Oidc::Token. Blocks for
    # one token request.
    def token_exchange(subject_token, subject_token_type: nil, audience: nil, resources: nil, scope: nil,
                       requested_token_type: nil, actor_token: nil, actor_token_type: nil, params: nil, timeout: nil,
                       cancel: nil)
      perform(:token_exchange, subject_token:, subject_token_type:, audience:, resource: resources, scope:,
                               requested_token_type:, actor_token:, actor_token_type:, params:, timeout:,
                               cancel:) do |r|
        Token.from_response(r)
      end
    end

    # JWT bearer grant (RFC 7523 §2.1): a ready `assertion`, or a `subject` for which liboidc
    # signs one with the client's private key (private_key:). Returns an Oidc::Token. Blocks for
    # one token request.
    def jwt_bearer(assertion: nil, subject: nil, scope: nil, params: nil, timeout: nil, cancel: nil)
      perform(:jwt_bearer, assertion:, subject:, scope:, params:, timeout:, cancel:) { |r| Token.from_response(r) }
    end

    # Any grant at the token endpoint: `grant_type` plus custom `params` (values to_s; an
    # Array repeats a parameter), authenticated like every token request (and DPoP-bound with a
    # DPoP key). Extra response members are in Token#raw / Token#[]. Blocks for one token
    # request.
    def custom_grant(grant_type, params = {}, scope: nil, timeout: nil, cancel: nil, **more)
      perform(:custom_grant, grant_type:, scope:, params: params.to_h.merge(more), timeout:, cancel:) do |r|
        Token.from_response(r)
      end
    end
  end
end
