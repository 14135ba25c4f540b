# frozen_string_literal: true

module Oidc
  # The answer of OAuthClient#resource_request: any HTTP status is a result, not an error.
  # #error / #error_description / #error_uri come from a WWW-Authenticate challenge or a JSON
  # error body (liboidc reads them).
  class ResourceResponse
    attr_reader :status, :body, :content_type, :www_authenticate, :error, :error_description, :error_uri

    def self.from_response(r)
      new(r[:http_status], r.json, content_type: r[:content_type], www_authenticate: r[:www_authenticate],
                                   error: r[:error], error_description: r[:error_description], error_uri: r[:error_uri])
    end

    def initialize(status, body, content_type: nil, www_authenticate: nil, error: nil, error_description: nil,
                   error_uri: nil)
      @status = status
      @body = body.freeze
      @content_type = content_type&.freeze
      @www_authenticate = www_authenticate&.freeze
      @error = error&.freeze
      @error_description = error_description&.freeze
      @error_uri = error_uri&.freeze
      freeze
    end

    def success?
      (200..299).cover?(@status)
    end

    # The body parsed as JSON.
    def json
      JSON.parse(@body)
    end

    def inspect
      "#<Oidc::ResourceResponse status=#{@status} body=#{@body.bytesize} bytes>"
    end
    alias to_s inspect
  end

  class OAuthClient
    # Call a protected resource with `token` (an Oidc::Token, or an access token String)
    # through the client's pooled connections. `token_type` "DPoP" or "Bearer" (from the Token
    # when given one; else liboidc's default: DPoP when the client has a DPoP key): DPoP-bound
    # requests carry a proof with ath, and one retry on use_dpop_nonce. `body` optional with
    # `content_type` (liboidc's default application/json). Any HTTP status is a result:
    # returns an Oidc::ResourceResponse (#status, #body, #www_authenticate, ...). Blocks for one
    # or two requests.
    def resource_request(method, url, token, token_type: nil, body: nil, content_type: nil, params: nil,
                         timeout: nil, cancel: nil)
      if token.is_a?(Token)
        token_type ||= token.token_type
        token = token.access_token
      end
      perform(:resource, method: method.to_s.upcase, url:, access_token: token, token_type:, body:, content_type:,
                         params:, timeout:, cancel:) do |r|
        ResourceResponse.from_response(r)
      end
    end

    # A DPoP proof (a JWT) for a request you send yourself: put it in a `DPoP` header, with
    # `Authorization: DPoP <access_token>` (`access_token` adds ath). Never blocks.
    def dpop_proof(method, url, access_token: nil)
      need(:oidc_oauth_dpop_proof)
      m = FFISupport.bytes(method.to_s.upcase)
      u = FFISupport.bytes(url)
      a, a_len = opt_arg(access_token)
      string_call do |ptr, out, len, err|
        Native.oidc_oauth_dpop_proof(ptr, m, m.bytesize, u, u.bytesize, a, a_len, out, len, err)
      end
    end

    # Remember a DPoP-Nonce received from `url`'s server (for #dpop_proof; requests liboidc
    # sends itself handle nonces on their own).
    def dpop_nonce(url, nonce)
      need(:oidc_oauth_dpop_set_nonce)
      u = FFISupport.bytes(url)
      n = FFISupport.bytes(nonce)
      native_call { |ptr, err| Native.oidc_oauth_dpop_set_nonce(ptr, u, u.bytesize, n, n.bytesize, err) }
      nil
    end

    # The DPoP key's RFC 7638 thumbprint (bound tokens carry it as cnf.jkt).
    def dpop_jkt
      need(:oidc_oauth_dpop_jkt)
      string_call { |ptr, out, len, err| Native.oidc_oauth_dpop_jkt(ptr, out, len, err) }
    end

    # The URL of an endpoint by metadata name ("token_endpoint", "device_authorization_endpoint",
    # ...): the endpoints: override, else discovery (which blocks on first use).
    def endpoint(name)
      perform(:endpoint, endpoint_name: name.to_s) { |r| r[:url] }
    end
  end

  module Native
    attach_optional :oidc_oauth_dpop_proof,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer pointer], :uint32
    attach_optional :oidc_oauth_dpop_set_nonce, %i[pointer pointer size_t pointer size_t pointer], :uint32
    attach_optional :oidc_oauth_dpop_jkt, %i[pointer pointer pointer pointer], :uint32
  end
end
