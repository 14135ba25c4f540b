# frozen_string_literal: true

module Oidc
  # An OAuth 2.0 / OpenID Connect protocol client: one registered client at one issuer. The
  # grants live in lib/oidc/oauth/*.rb, one file per area. Thread safe; every request releases
  # the GVL and all requests share one pooled HTTP connection set inside liboidc.
  #
  # The client secret is handed to liboidc and not kept in Ruby; #inspect never shows it.
  class OAuthClient
    attr_reader :issuer, :client_id, :auth_method

    # issuer:              the authorization server (metadata discovered on first use)
    # client_id:           the registered client id
    # client_secret:       its secret (client_secret_basic by default when given)
    # auth_method:         "client_secret_basic", "client_secret_post", "none", ...
    # ca_file:             extra PEM CA file to trust
    # endpoints:           overrides by metadata name, e.g. { token_endpoint: "https://..." }
    # connect_timeout:     seconds (default 5)
    # timeout:             total seconds per request (default 10)
    # allow_http_loopback: allow http:// to loopback hosts (development only)
    def initialize(issuer:, client_id:, client_secret: nil, auth_method: nil, ca_file: nil, endpoints: {},
                   connect_timeout: nil, timeout: nil, allow_http_loopback: false)
      @issuer = issuer.to_s.dup.freeze
      @client_id = client_id.to_s.dup.freeze
      @auth_method = (auth_method || (client_secret ? "client_secret_basic" : "none")).to_s.freeze
      raw = NativeBuilder.open("oidc_oauth_builder") do |b|
        self.class.configure(b, issuer: @issuer, client_id: @client_id, client_secret: client_secret,
                                auth_method: auth_method, ca_file: ca_file, endpoints: endpoints,
                                connect_timeout: connect_timeout, timeout: timeout,
                                allow_http_loopback: allow_http_loopback)
        b.build
      end
      @handle = Handle.new(raw, :oidc_oauth_client_free, "Oidc::OAuthClient")
    end

    # Apply the constructor's options to a native oidc_oauth_builder (also used by .register).
    def self.configure(b, issuer:, client_id: nil, client_secret: nil, auth_method: nil, ca_file: nil, endpoints: {},
                       connect_timeout: nil, timeout: nil, allow_http_loopback: false)
      b.str(:set_issuer, issuer.to_s)
      b.str(:set_client_id, client_id.to_s) if client_id
      b.str(:set_client_secret, client_secret) if client_secret
      b.str(:set_auth_method, auth_method.to_s) if auth_method
      b.str(:set_ca_file, ca_file.to_s) if ca_file
      endpoints.each { |name, url| b.str2(:set_endpoint, name.to_s, url.to_s) }
      if connect_timeout || timeout
        b.call(:set_timeouts_ms, NativeBuilder.ms(connect_timeout || 5, "connect_timeout"),
               NativeBuilder.ms(timeout || 10, "timeout"))
      end
      b.call(:set_allow_http_loopback, 1) if allow_http_loopback
    end

    # Free the native client (after running calls return); later calls raise ClosedError.
    def close
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    def inspect
      "#<Oidc::OAuthClient issuer=#{@issuer.inspect} client_id=#{@client_id.inspect} " \
        "auth_method=#{@auth_method}#{' closed' if closed?}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end

    private

    # Run a native call that yields an oidc_token_response and turn it into an Oidc::Token.
    # The block receives (client_ptr, out, err_out) and returns the oidc_result.
    def token_call
      out = FFI::MemoryPointer.new(:pointer)
      err = FFI::MemoryPointer.new(:pointer)
      rc = @handle.use { |ptr| yield ptr, out, err }
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      resp = out.read_pointer
      begin
        Token.from_native(resp)
      ensure
        Native.oidc_token_response_free(resp)
      end
    end

    # Run a native call on the handle; raise on failure. The block gets (client_ptr, err_out).
    def native_call
      err = FFI::MemoryPointer.new(:pointer)
      rc = @handle.use { |ptr| yield ptr, err }
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      rc
    end

    # Run a native call that returns an owned string (char **out, size_t *out_len) and return
    # it. The block gets (client_ptr, out, out_len, err_out).
    def string_call
      out = FFI::MemoryPointer.new(:pointer)
      len = FFI::MemoryPointer.new(:size_t)
      err = FFI::MemoryPointer.new(:pointer)
      rc = @handle.use { |ptr| yield ptr, out, len, err }
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      FFISupport.take_string(out.read_pointer, len.read(:size_t))
    end

    # Optional string argument for the ABI: (ptr, len), len 0 = absent.
    def opt_arg(value)
      return [nil, 0] if value.nil?

      s = FFISupport.bytes(value)
      [s, s.bytesize]
    end

    def need(fn)
      Client.need_native(fn)
    end
  end
end
