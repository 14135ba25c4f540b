# frozen_string_literal: true

module Oidc
  # An OAuth 2.0 / OpenID Connect protocol client: one registered client at one issuer. Every
  # protocol call is one liboidc request object: #request gives it as an Oidc::OAuthRequest;
  # the methods per operation live in lib/oidc/oauth/*.rb, one file per area, each one call of
  # the private #perform over the same C calls (Oidc::RequestNative). Thread safe; every
  # request releases the GVL and all requests share one pooled HTTP connection set inside
  # liboidc.
  #
  # The client secret is handed to liboidc and not kept in Ruby; #inspect never shows it.
  class OAuthClient
    attr_reader :issuer, :client_id, :auth_method

    # issuer:              the authorization server (metadata discovered on first use)
    # client_id:           the registered client id (a client without one can only #register)
    # client_secret:       its secret (client_secret_basic by default when given)
    # auth_method:         "client_secret_basic", "client_secret_post", "none", ...
    # ca_file:             extra PEM CA file to trust
    # endpoints:           overrides by metadata name, e.g. { token_endpoint: "https://..." }
    # connect_timeout:     seconds (default 5)
    # timeout:             total seconds per request (default 10)
    # allow_http_loopback: allow http:// to loopback hosts (development only)
    # proxy:               HTTP CONNECT proxy "http://[user:password@]host:port" for every
    #                      request (its credentials never appear in messages)
    # proxy_from_env:      true: use https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default)
    # client_cert:         mTLS client certificate chain (PEM String, leaf first) with
    #                      client_key: its unencrypted PEM key (RFC 8705; auth_method:
    #                      "tls_client_auth" or "self_signed_tls_client_auth")
    # private_key:         for private_key_jwt and JWT-bearer assertions: PEM (PKCS#8, PKCS#1,
    #                      SEC1) or a private JWK (Hash or JSON String); parsed by liboidc, not
    #                      kept in Ruby
    # private_key_kid:     kid for assertion headers; private_key_alg: e.g. "PS256" for RSA
    # dpop_key:            enable DPoP (RFC 9449): true (fresh ES256 key), or PEM / private JWK
    # assertion_audience:  aud of client assertions: "token_endpoint" (default), "issuer", "endpoint"
    #
    # JOSE (see the README, "JOSE"):
    # jwks_json:           the issuer's keys as a static key set (String or Hash): no key fetches
    # decryption_keys:     private keys for encrypted ID tokens, userinfo, introspection and JARM
    #                      responses and #decrypt: one or an Array, each a PEM String, a private
    #                      JWK (Hash or JSON String) or { key:, kid: }; not kept in Ruby
    # decryption_algorithms: the JWE alg and enc names accepted (Array or "RSA-OAEP-256 A256GCM")
    # algorithms:          the signature algorithms of ID tokens, logout tokens, signed responses and
    #                      #verify_jws (Array or "RS256,ES256"; default: liboidc's list)
    # request_object:      true: send every authorization request (URL, PAR) as a request object
    #                      signed with private_key: (RFC 9101); { enc_alg:, enc: } also encrypts it
    # logout_accept_untyped: true: accept logout tokens without typ logout+jwt (an OP that does
    #                      not type them)
    # logout_replay_store: a store shared by a fleet for logout-token jti replay, consulted after
    #                      the client's own cache: ->(key, ttl_secs) { ... } as dpop_replay_store:
    #                      of Oidc::Client (true: first use, recorded; false: a replay; anything
    #                      else or an exception: refused, Oidc::ReplayStoreUnavailable)
    def initialize(issuer:, client_id: nil, client_secret: nil, auth_method: nil, ca_file: nil, endpoints: {},
                   connect_timeout: nil, timeout: nil, allow_http_loopback: false, private_key: nil,
                   private_key_kid: nil, private_key_alg: nil, dpop_key: nil, assertion_audience: nil,
                   proxy: nil, proxy_from_env: false, client_cert: nil, client_key: nil, jwks_json: nil,
                   decryption_keys: nil, decryption_algorithms: nil, request_object: nil, logout_accept_untyped: nil,
                   logout_replay_store: nil, algorithms: nil)
      @issuer = issuer.to_s.dup.freeze
      @client_id = client_id&.to_s&.dup&.freeze
      # a private key without a secret means private_key_jwt unless auth_method: says otherwise
      auth_method ||= "private_key_jwt" if private_key && !client_secret
      @auth_method = (auth_method || (client_secret ? "client_secret_basic" : "none")).to_s.freeze
      @dpop = !(dpop_key.nil? || dpop_key == false)
      raw = NativeBuilder.open("oidc_oauth_builder") do |b|
        self.class.configure(b, issuer: @issuer, client_id: @client_id, client_secret: client_secret,
                                auth_method: auth_method, ca_file: ca_file, endpoints: endpoints,
                                connect_timeout: connect_timeout, timeout: timeout,
                                allow_http_loopback: allow_http_loopback)
        b.str(:set_proxy, proxy.to_s) if proxy
        b.call(:set_proxy_from_env, 1) if proxy_from_env
        b.str2(:set_client_cert, client_cert.to_s, client_key.to_s) if client_cert || client_key
        self.class.configure_keys(b, private_key: private_key, private_key_kid: private_key_kid,
                                     private_key_alg: private_key_alg, dpop_key: dpop_key,
                                     assertion_audience: assertion_audience)
        configure_jose(b, jwks_json: jwks_json, decryption_keys: decryption_keys,
                          decryption_algorithms: decryption_algorithms, request_object: request_object,
                          logout_accept_untyped: logout_accept_untyped, logout_replay_store: logout_replay_store,
                          algorithms: algorithms)
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
        # 0 keeps liboidc's setting (its default, or a policy document's) for the one not given
        b.call(:set_timeouts_ms, connect_timeout ? NativeBuilder.ms(connect_timeout, "connect_timeout") : 0,
               timeout ? NativeBuilder.ms(timeout, "timeout") : 0)
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

    # A request for `operation` (a Symbol of Oidc::Protocol::OPERATIONS, e.g. :refresh) with
    # `params` set by name (nil values skipped); yields it for more. Returns the
    # Oidc::OAuthRequest: call #send (or #perform) on it.
    #
    #   oauth.request(:refresh, refresh_token: rt) { |r| r.scope = %w[read] }.send
    def request(operation, **params)
      req = OAuthRequest.new(self, operation)
      begin
        req.update(params)
        yield req if block_given?
      rescue StandardError
        req.close
        raise
      end
      req
    end

    # For the binding: yields the native pointer while a call uses it.
    def use(&block)
      @handle.use(&block)
    end

    private

    # The one path of every per-operation method: a request for `op` with `typed` parameters
    # (nil skipped), custom `params`, `pending` (polls), `timeout` (seconds, the request's own
    # deadline: OIDC_PARAM_DEADLINE_MS) and `cancel`; sent (blocking, GVL released); the
    # response yielded to the block, whose value is returned. The request never leaves this
    # method and is freed in its ensure; so is the response (read in place), unless `keep`
    # (an owned Oidc::OAuthResponse for an object that keeps it: device and CIBA starts).
    def perform(op, timeout: nil, cancel: nil, params: nil, pending: nil, keep: false, **typed)
      opn = Protocol.operation(op)
      err = FFI::MemoryPointer.new(:pointer)
      raw = @handle.use do |cp|
        rp = RequestNative.create(cp, opn, err)
        begin
          typed.each { |name, value| RequestNative.set(rp, name, value, err) unless value.nil? }
          RequestNative.add_params(rp, params, err) if params
          RequestNative.set_pending(rp, pending, err) if pending
          RequestNative.set_int(rp, :deadline_ms, seconds_ms(timeout), err) if timeout
          RequestNative.send_request(rp, cancel, err)
        ensure
          Native.oidc_oauth_request_free(rp)
          Handle.count_free(:oidc_oauth_request_free)
        end
      end
      return OAuthResponse.borrow(raw) { |view| yield view } unless keep

      owned = OAuthResponse.new(raw)
      begin
        yield owned
      rescue Exception # rubocop:disable Lint/RescueException -- free it whatever interrupts
        owned.close
        raise
      end
    end

    # The JOSE keywords of #initialize on the native builder `b` (liboidc checks each).
    def configure_jose(b, jwks_json:, decryption_keys:, decryption_algorithms:, request_object:,
                       logout_accept_untyped:, logout_replay_store:, algorithms:)
      if algorithms
        need(:oidc_oauth_builder_set_algorithms)
        b.str(:set_algorithms, algorithms.is_a?(Array) ? algorithms.join(",") : algorithms.to_s)
      end
      if jwks_json
        need(:oidc_oauth_builder_set_jwks_json)
        b.str(:set_jwks_json, jwks_json.is_a?(String) ? jwks_json : JSON.generate(jwks_json))
      end
      JoseOptions.add_decryption_keys(b, "oidc_oauth_builder", decryption_keys) if decryption_keys
      JoseOptions.set_decryption_algorithms(b, "oidc_oauth_builder", decryption_algorithms) if decryption_algorithms
      JoseOptions.set_request_object(b, request_object) if request_object
      unless logout_accept_untyped.nil?
        need(:oidc_oauth_builder_set_logout_accept_untyped)
        b.call(:set_logout_accept_untyped, logout_accept_untyped ? 1 : 0)
      end
      return unless logout_replay_store

      need(:oidc_oauth_builder_set_replay_store)
      # kept as long as this client: liboidc calls it from any thread
      @replay_store_fn = Client.replay_store_function(logout_replay_store, "logout_replay_store")
      b.call(:set_replay_store, @replay_store_fn, nil)
    end

    # Seconds as whole milliseconds (at least 1 for any positive value).
    def seconds_ms(seconds)
      v = (Float(seconds) * 1000).ceil
      raise ArgumentError, "timeout must be >= 0" if v.negative?

      v
    end

    def need(fn)
      Client.need_native(fn)
    end

    # The local helpers that stay flat C functions (DPoP proofs): a native call on the handle
    # that raises on failure. The block gets (client_ptr, err_out).
    def native_call
      err = FFI::MemoryPointer.new(:pointer)
      rc = @handle.use { |ptr| yield ptr, err }
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      rc
    end

    # A native call that returns an owned string (char **out, size_t *out_len); the block gets
    # (client_ptr, out, out_len, err_out).
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
  end

  module Native
    %i[oidc_oauth_builder_set_private_key_pem oidc_oauth_builder_set_private_key_jwk].each do |f|
      attach_optional f, %i[pointer pointer size_t pointer size_t pointer size_t pointer], :uint32
    end
    attach_optional :oidc_oauth_builder_set_dpop_key, %i[pointer pointer size_t pointer], :uint32
    attach_optional :oidc_oauth_builder_set_assertion_audience, %i[pointer pointer size_t pointer], :uint32
  end
end
