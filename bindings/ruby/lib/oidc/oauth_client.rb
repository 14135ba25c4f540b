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
    # private_key:         for private_key_jwt and JWT-bearer assertions: PEM (PKCS#8, PKCS#1,
    #                      SEC1) or a private JWK (Hash or JSON String); parsed by liboidc, not
    #                      kept in Ruby
    # private_key_kid:     kid for assertion headers; private_key_alg: e.g. "PS256" for RSA
    # dpop_key:            enable DPoP (RFC 9449): true (fresh ES256 key), or PEM / private JWK
    # assertion_audience:  aud of client assertions: "token_endpoint" (default), "issuer", "endpoint"
    def initialize(issuer:, client_id:, client_secret: nil, auth_method: nil, ca_file: nil, endpoints: {},
                   connect_timeout: nil, timeout: nil, allow_http_loopback: false, private_key: nil,
                   private_key_kid: nil, private_key_alg: nil, dpop_key: nil, assertion_audience: nil)
      @issuer = issuer.to_s.dup.freeze
      @client_id = client_id.to_s.dup.freeze
      # a private key without a secret means private_key_jwt unless auth_method: says otherwise
      auth_method ||= "private_key_jwt" if private_key && !client_secret
      @auth_method = (auth_method || (client_secret ? "client_secret_basic" : "none")).to_s.freeze
      @dpop = !(dpop_key.nil? || dpop_key == false)
      raw = NativeBuilder.open("oidc_oauth_builder") do |b|
        self.class.configure(b, issuer: @issuer, client_id: @client_id, client_secret: client_secret,
                                auth_method: auth_method, ca_file: ca_file, endpoints: endpoints,
                                connect_timeout: connect_timeout, timeout: timeout,
                                allow_http_loopback: allow_http_loopback)
        self.class.configure_keys(b, private_key: private_key, private_key_kid: private_key_kid,
                                     private_key_alg: private_key_alg, dpop_key: dpop_key,
                                     assertion_audience: assertion_audience)
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

    # Keys and assertion options (liboidc parses them now: a bad key raises here). The key
    # material goes to liboidc and is not kept in Ruby.
    def self.configure_keys(b, private_key: nil, private_key_kid: nil, private_key_alg: nil, dpop_key: nil,
                            assertion_audience: nil)
      if private_key
        jwk = private_key.is_a?(Hash) || private_key.to_s.lstrip.start_with?("{")
        fn = jwk ? :oidc_oauth_builder_set_private_key_jwk : :oidc_oauth_builder_set_private_key_pem
        Client.need_native(fn)
        key = FFISupport.bytes(private_key.is_a?(Hash) ? JSON.generate(private_key) : private_key)
        kid = private_key_kid && FFISupport.bytes(private_key_kid.to_s)
        alg = private_key_alg && FFISupport.bytes(private_key_alg.to_s)
        FFISupport.check do |e|
          Native.public_send(fn, b.ptr, key, key.bytesize, kid, kid ? kid.bytesize : 0, alg, alg ? alg.bytesize : 0, e)
        end
      end
      unless dpop_key.nil? || dpop_key == false
        Client.need_native(:oidc_oauth_builder_set_dpop_key)
        key = if dpop_key == true
                nil
              else
                FFISupport.bytes(dpop_key.is_a?(Hash) ? JSON.generate(dpop_key) : dpop_key)
              end
        FFISupport.check { |e| Native.oidc_oauth_builder_set_dpop_key(b.ptr, key, key ? key.bytesize : 0, e) }
      end
      return unless assertion_audience

      Client.need_native(:oidc_oauth_builder_set_assertion_audience)
      b.str(:set_assertion_audience, assertion_audience.to_s)
    end

    # True when token requests are DPoP-bound (built with dpop_key:).
    def dpop?
      @dpop
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
        "auth_method=#{@auth_method}#{' dpop' if @dpop}#{' closed' if closed?}>"
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

    # Run a native call that writes one owned handle to `out`; returns the raw pointer.
    def pointer_call
      out = FFI::MemoryPointer.new(:pointer)
      native_call { |ptr, err| yield ptr, out, err }
      out.read_pointer
    end

    # A device/CIBA poll: client, pending handle and cancel handle are all held (counted) for
    # the call, so none is freed under it.
    def poll_call(pending, timeout, cancel)
      raise TypeError, "cancel: expects an Oidc::Cancel" unless cancel.nil? || cancel.is_a?(Cancel)

      ms = poll_ms(timeout)
      token_call do |ptr, out, err|
        pending.use do |pp|
          if cancel
            cancel.use { |cp| yield ptr, pp, ms, cp, out, err }
          else
            yield ptr, pp, ms, nil, out, err
          end
        end
      end
    end

    # A poll timeout in seconds as the ABI's uint32 milliseconds.
    def poll_ms(timeout)
      v = (Float(timeout) * 1000).round
      raise ArgumentError, "timeout must be between 0 and #{0xffffffff / 1000} s" unless v >= 0 && v <= 0xffffffff

      v
    end

    # RFC 8707 resource indicators as the ABI's space-separated list (nil when none).
    def resource_arg(resources)
      list = Array(resources).map(&:to_s)
      raise ArgumentError, "a resource indicator cannot contain a space" if list.any? { |r| r.include?(" ") }

      list.empty? ? nil : list.join(" ")
    end

    def scope_arg(scope)
      scope.is_a?(Array) ? scope.join(" ") : scope
    end

    # Extra parameters as the JSON object the ABI takes (nil when empty): values are Strings,
    # numbers, booleans or Arrays of Strings.
    def params_json(params)
      h = params.to_h.compact.to_h do |k, v|
        [k.to_s, case v
                 when Array then v.map(&:to_s)
                 when Numeric, true, false then v
                 else v.to_s
                 end]
      end
      h.empty? ? nil : JSON.generate(h)
    end
  end

  module Native
    %i[oidc_oauth_builder_set_private_key_pem oidc_oauth_builder_set_private_key_jwk].each do |f|
      attach_optional f, %i[pointer pointer size_t pointer size_t pointer size_t pointer], :uint32
    end
    attach_optional :oidc_oauth_builder_set_dpop_key, %i[pointer pointer size_t pointer], :uint32
    attach_optional :oidc_oauth_builder_set_assertion_audience, %i[pointer pointer size_t pointer], :uint32
  end
end
