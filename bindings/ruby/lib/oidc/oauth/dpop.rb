# frozen_string_literal: true

module Oidc
  # The answer of OAuthClient#resource_request: any HTTP status is a result, not an error.
  class ResourceResponse
    attr_reader :status, :body

    def initialize(status, body)
      @status = status
      @body = body.freeze
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
    # Call a protected resource with `token` (an Oidc::Token, or an access token String with
    # `token_type:`) through the client's pooled connections: DPoP-bound (proof with ath, one
    # retry on use_dpop_nonce) when the client has a DPoP key and the token type is "DPoP",
    # else Bearer. `body` optional with `content_type` (default application/json). Returns an
    # Oidc::ResourceResponse (#status, #body). Blocks for one or two requests.
    def resource_request(method, url, token, token_type: nil, body: nil, content_type: nil)
      need(:oidc_oauth_resource_request)
      if token.is_a?(Token)
        token_type ||= token.token_type
        token = token.access_token
      end
      m = FFISupport.bytes(method.to_s.upcase)
      u = FFISupport.bytes(url)
      t = FFISupport.bytes(token)
      tt, tt_len = opt_arg(token_type || "Bearer")
      b, b_len = opt_arg(body)
      ct, ct_len = opt_arg(content_type)
      status = FFI::MemoryPointer.new(:uint32)
      text = string_call do |ptr, out, len, err|
        Native.oidc_oauth_resource_request(ptr, m, m.bytesize, u, u.bytesize, t, t.bytesize, tt, tt_len, b, b_len,
                                           ct, ct_len, status, out, len, err)
      end
      ResourceResponse.new(status.read(:uint32), text || "")
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
      need(:oidc_oauth_client_endpoint)
      n = FFISupport.bytes(name.to_s)
      string_call { |ptr, out, len, err| Native.oidc_oauth_client_endpoint(ptr, n, n.bytesize, out, len, err) }
    end
  end

  module Native
    attach_optional :oidc_oauth_resource_request,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer size_t pointer size_t pointer size_t
                       pointer pointer pointer pointer], :uint32, blocking: true
    attach_optional :oidc_oauth_dpop_proof,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer pointer], :uint32
    attach_optional :oidc_oauth_dpop_set_nonce, %i[pointer pointer size_t pointer size_t pointer], :uint32
    attach_optional :oidc_oauth_dpop_jkt, %i[pointer pointer pointer pointer], :uint32
    attach_optional :oidc_oauth_client_endpoint, %i[pointer pointer size_t pointer pointer pointer], :uint32,
                    blocking: true
  end
end
