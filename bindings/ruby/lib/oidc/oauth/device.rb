# frozen_string_literal: true

module Oidc
  # A pending device authorization (RFC 8628) from OAuthClient#device_authorization: show the
  # user #verification_uri and #user_code (or #verification_uri_complete), then
  # OAuthClient#poll_device. The device code (a secret) is not shown by #inspect.
  class DeviceAuthorization < PendingAuthorization
    attr_reader :user_code, :verification_uri, :verification_uri_complete

    def initialize(response)
      super
      @user_code = response[:user_code]&.freeze
      @verification_uri = response[:verification_uri]&.freeze
      @verification_uri_complete = response[:verification_uri_complete]&.freeze
    end

    def inspect
      "#<Oidc::DeviceAuthorization user_code=#{@user_code.inspect} verification_uri=#{@verification_uri.inspect} " \
        "expires_in=#{@expires_in.inspect} interval=#{@interval.inspect}#{' closed' if closed?}>"
    end
    alias to_s inspect
  end

  class OAuthClient
    # Start a device authorization (RFC 8628) at the issuer's device_authorization_endpoint.
    # `params`: custom parameters (e.g. what a server demands beyond RFC 8628). Returns an
    # Oidc::DeviceAuthorization. Blocks for one request.
    def device_authorization(scope: nil, params: nil, timeout: nil, cancel: nil)
      perform(:device_authorization, scope: scope, params: params, timeout: timeout, cancel: cancel, keep: true) do |r|
        DeviceAuthorization.new(r)
      end
    end

    # Poll until the user approves `auth`: the first poll at once, then one per interval
    # (slow_down adds 5 s). Raises Oidc::DeadlineExceeded rather than wait past `timeout`
    # seconds from now, Oidc::ExpiredToken when the codes expire, Oidc::AccessDenied when the
    # user declines, Oidc::Cancelled when `cancel` (an Oidc::Cancel) is triggered from another
    # thread. An ID token in the response is validated. Returns an Oidc::Token. Blocks (GVL
    # released) up to `timeout`; Thread#raise and Ctrl-C take effect only when it returns, so
    # use `cancel:` to end it early.
    def poll_device(auth, timeout: nil, cancel: nil)
      raise TypeError, "expected an Oidc::DeviceAuthorization" unless auth.is_a?(DeviceAuthorization)

      perform(:device_poll, pending: auth, timeout: timeout, cancel: cancel) { |r| Token.from_response(r) }
    end
  end
end
