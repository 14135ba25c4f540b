# frozen_string_literal: true

module Oidc
  # A pending CIBA backchannel authentication (poll mode) from OAuthClient#ciba_request. Its
  # #auth_req_id is a secret handle: #inspect does not show it.
  class CibaRequest < PendingAuthorization
    attr_reader :auth_req_id

    def initialize(raw)
      super(raw, :oidc_ciba_request_free, "Oidc::CibaRequest")
      @auth_req_id = Oidc.cstr_or_nil(Native.oidc_ciba_request_auth_req_id(raw))&.freeze
      @expires_in = Native.oidc_ciba_request_expires_in(raw)
      @interval = Native.oidc_ciba_request_interval(raw)
    end

    def inspect
      "#<Oidc::CibaRequest auth_req_id=[FILTERED] expires_in=#{@expires_in} interval=#{@interval}" \
        "#{' closed' if closed?}>"
    end
    alias to_s inspect
  end

  class OAuthClient
    # Start a CIBA backchannel authentication (poll mode) at the issuer's
    # backchannel_authentication_endpoint, e.g.
    # `ciba_request(scope: "openid", login_hint: "alice", binding_message: "W4SCT")` (values:
    # Strings, numbers, booleans, Arrays of Strings). Returns an Oidc::CibaRequest. Blocks for
    # one request.
    def ciba_request(scope: nil, **params)
      need(:oidc_oauth_ciba_request)
      json = FFISupport.bytes(params_json({ scope: scope_arg(scope) }.merge(params)) || "{}")
      raw = pointer_call { |ptr, out, err| Native.oidc_oauth_ciba_request(ptr, json, json.bytesize, out, err) }
      CibaRequest.new(raw)
    end

    # Poll for the tokens of `req`; same rules and errors as #poll_device. Returns an Oidc::Token.
    def poll_ciba(req, timeout:, cancel: nil)
      need(:oidc_oauth_ciba_poll)
      raise TypeError, "expected an Oidc::CibaRequest" unless req.is_a?(CibaRequest)

      poll_call(req, timeout, cancel) { |*args| Native.oidc_oauth_ciba_poll(*args) }
    end
  end

  module Native
    attach_optional :oidc_oauth_ciba_request, %i[pointer pointer size_t pointer pointer], :uint32, blocking: true
    attach_optional :oidc_ciba_request_auth_req_id, [:pointer], :pointer
    attach_optional :oidc_ciba_request_expires_in, [:pointer], :int64
    attach_optional :oidc_ciba_request_interval, [:pointer], :uint32
    attach_optional :oidc_ciba_request_free, [:pointer], :void
    attach_optional :oidc_oauth_ciba_poll, %i[pointer pointer uint32 pointer pointer pointer], :uint32,
                    blocking: true
  end
end
