# frozen_string_literal: true

module Oidc
  # A pending device authorization (RFC 8628) from OAuthClient#device_authorization: show the
  # user #verification_uri and #user_code (or #verification_uri_complete), then
  # OAuthClient#poll_device. The device code (a secret) stays inside liboidc.
  class DeviceAuthorization < PendingAuthorization
    attr_reader :user_code, :verification_uri, :verification_uri_complete

    def initialize(raw)
      super(raw, :oidc_device_authorization_free, "Oidc::DeviceAuthorization")
      n = Native
      @user_code = Oidc.cstr_or_nil(n.oidc_device_authorization_user_code(raw))&.freeze
      @verification_uri = Oidc.cstr_or_nil(n.oidc_device_authorization_verification_uri(raw))&.freeze
      @verification_uri_complete = Oidc.cstr_or_nil(n.oidc_device_authorization_verification_uri_complete(raw))&.freeze
      @expires_in = n.oidc_device_authorization_expires_in(raw)
      @interval = n.oidc_device_authorization_interval(raw)
    end

    def inspect
      "#<Oidc::DeviceAuthorization user_code=#{@user_code.inspect} verification_uri=#{@verification_uri.inspect} " \
        "expires_in=#{@expires_in} interval=#{@interval}#{' closed' if closed?}>"
    end
    alias to_s inspect
  end

  class OAuthClient
    # Start a device authorization (RFC 8628) at the issuer's device_authorization_endpoint.
    # Returns an Oidc::DeviceAuthorization. Blocks for one request.
    def device_authorization(scope: nil)
      need(:oidc_oauth_device_authorization)
      s, s_len = opt_arg(scope_arg(scope))
      raw = pointer_call { |ptr, out, err| Native.oidc_oauth_device_authorization(ptr, s, s_len, out, err) }
      DeviceAuthorization.new(raw)
    end

    # Poll until the user approves `auth`: the first poll at once, then one per interval
    # (slow_down adds 5 s). Raises Oidc::DeadlineExceeded rather than wait past `timeout`
    # seconds from now, Oidc::ExpiredToken when the codes expire, Oidc::AccessDenied when the
    # user declines, Oidc::Cancelled when `cancel` (an Oidc::Cancel) is cancelled from another
    # thread. An ID token in the response is validated. Returns an Oidc::Token. Blocks (GVL
    # released) up to `timeout`; Thread#raise and Ctrl-C take effect only when it returns, so
    # use `cancel:` to end it early.
    def poll_device(auth, timeout:, cancel: nil)
      need(:oidc_oauth_device_poll)
      raise TypeError, "expected an Oidc::DeviceAuthorization" unless auth.is_a?(DeviceAuthorization)

      poll_call(auth, timeout, cancel) { |*args| Native.oidc_oauth_device_poll(*args) }
    end
  end

  module Native
    attach_optional :oidc_oauth_device_authorization, %i[pointer pointer size_t pointer pointer], :uint32,
                    blocking: true
    %i[user_code verification_uri verification_uri_complete].each do |what|
      attach_optional :"oidc_device_authorization_#{what}", [:pointer], :pointer
    end
    attach_optional :oidc_device_authorization_expires_in, [:pointer], :int64
    attach_optional :oidc_device_authorization_interval, [:pointer], :uint32
    attach_optional :oidc_device_authorization_free, [:pointer], :void
    attach_optional :oidc_oauth_device_poll, %i[pointer pointer uint32 pointer pointer pointer], :uint32,
                    blocking: true
  end
end
