# frozen_string_literal: true

module Oidc
  # A pending CIBA backchannel authentication (poll mode) from OAuthClient#ciba_request. Its
  # #auth_req_id is a secret handle: #inspect does not show it.
  class CibaRequest < PendingAuthorization
    attr_reader :auth_req_id

    def initialize(response)
      super
      @auth_req_id = response[:auth_req_id]&.freeze
    end

    def inspect
      "#<Oidc::CibaRequest auth_req_id=[FILTERED] expires_in=#{@expires_in.inspect} interval=#{@interval.inspect}" \
        "#{' closed' if closed?}>"
    end
    alias to_s inspect
  end

  class OAuthClient
    # Start a CIBA backchannel authentication (poll mode) at the issuer's
    # backchannel_authentication_endpoint, e.g.
    # `ciba_request(scope: %w[openid], login_hint: "alice", binding_message: "W4SCT")`; further
    # keywords are custom parameters (an Array repeats one). Returns an Oidc::CibaRequest.
    # Blocks for one request.
    def ciba_request(scope: nil, login_hint: nil, binding_message: nil, timeout: nil, cancel: nil, **params)
      perform(:ciba_request, scope: scope, login_hint: login_hint, binding_message: binding_message, params: params,
                             timeout: timeout, cancel: cancel, keep: true) do |r|
        CibaRequest.new(r)
      end
    end

    # Poll for the tokens of `req`; same rules and errors as #poll_device. Returns an Oidc::Token.
    def poll_ciba(req, timeout: nil, cancel: nil)
      raise TypeError, "expected an Oidc::CibaRequest" unless req.is_a?(CibaRequest)

      perform(:ciba_poll, pending: req, timeout: timeout, cancel: cancel) { |r| Token.from_response(r) }
    end
  end
end
