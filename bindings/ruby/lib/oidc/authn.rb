# frozen_string_literal: true

module Oidc
  # Request authentication (resource server): the C functions, the Decision object and
  # Client#authenticate. The whole decision (Authorization header parsing, DPoP proofs and
  # nonces, token binding, scopes, claim rules, 400/401/403/503 and the WWW-Authenticate
  # values) is made by liboidc's oidc_authenticate; nothing here restates any of it.
  module Native
    # --- the request description (never blocks) ---
    attach_optional :oidc_http_request_new, %i[pointer err_out], :oidc_result
    attach_optional :oidc_http_request_free, [:pointer], :void
    attach_optional :oidc_http_request_reset, [:pointer], :void
    attach_optional :oidc_http_request_add_header, %i[pointer pointer size_t pointer size_t err_out], :oidc_result
    attach_optional :oidc_http_request_set_method, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_http_request_set_url, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_http_request_set_client_cert, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_http_request_set_now, %i[pointer int64 err_out], :oidc_result

    # --- the decision: may fetch keys (first use, rotation) and call a replay store: blocking ---
    attach_optional :oidc_authenticate, %i[pointer pointer pointer err_out], :oidc_result, blocking: true
    attach_optional :oidc_decision_free, [:pointer], :void
    attach_optional :oidc_decision_allowed, [:pointer], :uint32
    attach_optional :oidc_decision_code, [:pointer], :oidc_result
    attach_optional :oidc_decision_http_status, [:pointer], :uint32
    attach_optional :oidc_decision_error, %i[pointer pointer], :pointer # borrowed, NULL when none
    attach_optional :oidc_decision_message, %i[pointer pointer], :pointer
    attach_optional :oidc_decision_claims, %i[pointer pointer], :pointer
    attach_optional :oidc_decision_token_type, [:pointer], :pointer # static
    attach_optional :oidc_decision_challenge_count, [:pointer], :size_t
    attach_optional :oidc_decision_challenge, %i[pointer size_t pointer], :pointer
    attach_optional :oidc_decision_dpop_nonce, %i[pointer pointer], :pointer

    # --- the resource's rules on the client builder (never block) ---
    attach_optional :oidc_validator_builder_add_required_scope, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_validator_builder_add_allowed_claim_value,
                    %i[pointer pointer size_t pointer size_t err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_dpop_mode, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_dpop_algorithms, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_dpop_proof_window_secs, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_dpop_nonce_secret, %i[pointer pointer size_t uint32 err_out],
                    :oidc_result
    # int32_t (*)(void *user_data, const char *key, size_t key_len, uint64_t ttl_secs)
    callback :oidc_replay_store_cb, %i[pointer pointer size_t uint64], :int32
    attach_optional :oidc_validator_builder_set_dpop_replay_store, %i[pointer oidc_replay_store_cb pointer err_out],
                    :oidc_result
    attach_optional :oidc_validator_builder_set_require_mtls, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_token_cache_size, %i[pointer size_t err_out], :oidc_result
  end

  # liboidc's decision about one HTTP request (Client#authenticate). Immutable; everything is
  # copied out of the native decision, which is freed before #authenticate returns.
  #
  # Allowed: #allowed? true, #status 200, #claims (Oidc::Claims), #token_type ("Bearer" or
  # "DPoP"), and possibly a #dpop_nonce to send with the response.
  # Denied: #code / #name (the precise reason, e.g. 305 "TOKEN_EXPIRED", 325 "DPOP_REPLAY"),
  # #status (400, 401, 403, 503 or 500), #error (the RFC 6750 / RFC 9449 code, e.g.
  # "invalid_token", or nil), #challenges (the WWW-Authenticate values to send, one header line
  # each, in order), #dpop_nonce (a DPoP-Nonce value to send, or nil) and #message (for logs;
  # never a token's contents or a secret).
  class Decision
    attr_reader :code, :status, :error, :message, :token_type, :challenges, :dpop_nonce

    # Made by Client#authenticate (positional: it is on the hot path).
    def initialize(allowed, code, status, error, message, claims_json, token_type, challenges, dpop_nonce)
      @allowed = allowed
      @code = code
      @status = status
      @error = error
      @message = message
      @claims_json = claims_json
      @token_type = token_type
      @challenges = challenges.freeze
      @dpop_nonce = dpop_nonce
      @claims = nil
    end

    def allowed?
      @allowed
    end

    def denied?
      !@allowed
    end

    # The stable name of #code ("OK", "TOKEN_MISSING", "DPOP_PROOF_MISMATCH", ...).
    def name
      @code.zero? ? "OK" : Oidc.result_name(@code)
    end

    # The access token's claims when allowed (Oidc::Claims, parsed on first access); nil when
    # denied.
    def claims
      return nil unless @claims_json

      @claims ||= Claims.from_json(@claims_json)
    end

    # The claims JSON exactly as liboidc produced it (nil when denied).
    def claims_json
      @claims_json
    end

    # `sub` of an allowed request's token (nil when denied).
    def subject
      claims&.subject
    end

    # The exception class of a denial's code (Oidc::TokenExpired, Oidc::DpopReplay, ...), for
    # callers that prefer to raise: `raise d.error_class, d.message if d.denied?`.
    def error_class
      @allowed ? nil : Error.for_code(@code)
    end

    def inspect
      if @allowed
        "#<Oidc::Decision allowed #{@token_type}>"
      else
        "#<Oidc::Decision denied #{@status} #{name}(#{@code})#{" #{@error}" if @error}>"
      end
    end
    alias to_s inspect

    NO_CHALLENGES = [].freeze
    # The token types are static strings in liboidc: read each once, by address.
    @token_types = {}

    # Read a native decision (borrowed) into a Decision.
    def self.from_native(d, len_p)
      if Native.oidc_decision_allowed(d) == 1
        tt = Native.oidc_decision_token_type(d)
        tt = @token_types[tt.address] ||= tt.read_string.force_encoding(Encoding::UTF_8).freeze unless tt.null?
        return new(true, 0, 200, nil, nil, borrowed(Native.oidc_decision_claims(d, len_p), len_p), tt,
                   NO_CHALLENGES, borrowed(Native.oidc_decision_dpop_nonce(d, len_p), len_p))
      end

      count = Native.oidc_decision_challenge_count(d)
      challenges = Array.new(count) { |i| borrowed(Native.oidc_decision_challenge(d, i, len_p), len_p) }.compact
      new(false, Native.oidc_decision_code(d), Native.oidc_decision_http_status(d),
          borrowed(Native.oidc_decision_error(d, len_p), len_p), borrowed(Native.oidc_decision_message(d, len_p), len_p),
          nil, nil, challenges, borrowed(Native.oidc_decision_dpop_nonce(d, len_p), len_p))
    end

    # Copy a borrowed string whose length the getter just wrote to len_p (nil for NULL).
    def self.borrowed(ptr, len_p)
      return nil if ptr.null?

      ptr.read_string(len_p.read(:size_t)).force_encoding(Encoding::UTF_8)
    end
    private_class_method :borrowed
  end

  class Client
    DPOP_MODES = { allowed: 0, required: 1, disabled: 2 }.freeze

    # Authenticate one HTTP request (RFC 6750 bearer tokens, RFC 9449 DPoP, RFC 8705 mTLS-bound
    # tokens, and the client's required scopes and claim values). Returns an Oidc::Decision,
    # allowed or denied: a denial is an answer, not an exception.
    #
    #   method:        the request method as received ("GET")
    #   url:           the absolute URL the client addressed ("https://api.example.com/items?x=1"),
    #                  behind a proxy the public one (DPoP proofs are checked against it)
    #   authorization: the Authorization header: nil (none), a String (one header line) or an
    #                  Array (one String per header line received; more than one is a 400)
    #   dpop:          the DPoP header, the same way
    #   client_cert:   the mTLS client certificate: DER String, or anything with #to_der
    #                  (OpenSSL::X509::Certificate); nil when none
    #   now:           decide as of this Time / Unix second instead of the clock (tests, replays)
    #
    # Raises Oidc::Error only for a misuse (no method, a URL that is not absolute http(s):
    # Oidc::InvalidArgument) or a closed client. May block (GVL released) while keys are
    # fetched the first time.
    def authenticate(method:, url:, authorization: nil, dpop: nil, client_cert: nil, now: nil)
      req, out, err, len = Thread.current[AUTHN_KEY] || Client.authn_buffers
      Client.fill_request(req, err, method, url, authorization, dpop, client_cert, now)
      rc = @handle.use { |ptr| Native.oidc_authenticate(ptr, req, out, err) }
      Client.put(rc, err) unless rc.zero?
      d = out.read_pointer
      begin
        Decision.from_native(d, len)
      ensure
        Native.oidc_decision_free(d)
      end
    end

    AUTHN_KEY = :__oidc_authn_buffers
    private_constant :AUTHN_KEY

    class << self
      # [request, decision_out, err_out, len_out] of this fiber: one native request object,
      # reset before each use, and the out-params (Thread#[] is fiber-local, and nothing can run
      # another #authenticate on this fiber between filling the request and reading the
      # decision). The request is freed by the GC with the fiber's storage.
      def authn_buffers
        Thread.current[AUTHN_KEY] ||= begin
          Client.need_native(:oidc_authenticate)
          o = FFI::MemoryPointer.new(:pointer)
          FFISupport.check { |e| Native.oidc_http_request_new(o, e) }
          req = FFI::AutoPointer.new(o.read_pointer, Native.method(:oidc_http_request_free))
          buf = FFI::MemoryPointer.new(:pointer, 3)
          [req, buf, buf + PTR_SIZE, buf + (2 * PTR_SIZE)].freeze
        end
      end

      # Reset this fiber's request object and fill it (#authenticate's arguments, positional:
      # the hot path). The setters copy what they are given and never block (the GVL is held),
      # so the Ruby strings are passed as they are: header values as raw bytes, judged by liboidc.
      def fill_request(req, err, method, url, authorization, dpop, client_cert, now)
        Native.oidc_http_request_reset(req)
        add_headers(req, "Authorization", authorization, err) if authorization
        add_headers(req, "DPoP", dpop, err) if dpop
        m = method.is_a?(String) ? method : raw(method.to_s)
        rc = Native.oidc_http_request_set_method(req, m, m.bytesize, err)
        put(rc, err) unless rc.zero?
        u = url.is_a?(String) ? url : raw(url)
        rc = Native.oidc_http_request_set_url(req, u, u.bytesize, err)
        put(rc, err) unless rc.zero?
        if client_cert
          der = raw(client_cert.respond_to?(:to_der) ? client_cert.to_der : client_cert)
          put(Native.oidc_http_request_set_client_cert(req, der, der.bytesize, err), err)
        end
        put(Native.oidc_http_request_set_now(req, now.to_i, err), err) if now
      end

      # nil, one header value (String) or one value per header line (Array).
      def add_headers(req, name, values, err)
        if values.is_a?(Array)
          values.each { |v| add_headers(req, name, v, err) }
        else
          v = raw(values)
          put(Native.oidc_http_request_add_header(req, name, name.bytesize, v, v.bytesize, err), err)
        end
      end

      def raw(value)
        String.try_convert(value) or raise TypeError, "expected a String, got #{value.class}"
      end

      # The C callback for a shared replay store (DPoP proofs; OAuthClient's logout tokens
      # too): `store.call(key, ttl_secs)` returns true (first use: the key is now recorded),
      # false (a replay) or anything else / raises (the store could not answer: liboidc denies
      # 503). It runs on the thread that called #authenticate (or the protocol call), inside
      # liboidc (ffi takes the GVL back for it). Nothing may unwind through liboidc, so every
      # exception ends here.
      def replay_store_function(store, what = "dpop_replay_store")
        raise ArgumentError, "#{what}: must respond to #call(key, ttl_secs)" unless store.respond_to?(:call)

        FFI::Function.new(:int32, %i[pointer pointer size_t uint64]) do |_ud, key, len, ttl|
          case store.call(key.read_string(len).force_encoding(Encoding::US_ASCII), ttl)
          when true then 1
          when false then 0
          else -1
          end
        rescue Exception # rubocop:disable Lint/RescueException -- never unwind into C
          -1
        end
      end

      def put(rc, err)
        raise Error.from_native(rc, err.read_pointer) unless rc.zero?
      end
    end

    private

    # The resource-server keywords of #initialize, on the native builder `b`.
    def configure_resource(b, required_scopes:, claim_values:, dpop_mode:, dpop_algorithms:, dpop_proof_window:,
                           dpop_nonce_secret:, dpop_nonce_lifetime:, dpop_replay_store:, require_mtls:,
                           token_cache_size:)
      need = ->(fn) { Client.need_native(:"oidc_validator_builder_#{fn}") }
      Array(required_scopes).each do |s|
        need.(:add_required_scope)
        b.str(:add_required_scope, s.to_s)
      end
      (claim_values || {}).each do |claim, values|
        need.(:add_allowed_claim_value)
        Array(values).each { |v| b.str2(:add_allowed_claim_value, claim.to_s, v.to_s) }
      end
      unless dpop_mode.nil?
        need.(:set_dpop_mode)
        mode = DPOP_MODES.fetch(dpop_mode.to_sym) do
          raise ArgumentError, "dpop_mode: must be one of #{DPOP_MODES.keys.inspect}"
        end
        b.call(:set_dpop_mode, mode)
      end
      if dpop_algorithms
        need.(:set_dpop_algorithms)
        b.str(:set_dpop_algorithms, Array(dpop_algorithms).join(","))
      end
      if dpop_proof_window
        need.(:set_dpop_proof_window_secs)
        b.call(:set_dpop_proof_window_secs, Integer(dpop_proof_window))
      end
      if dpop_nonce_secret
        need.(:set_dpop_nonce_secret)
        secret = String(dpop_nonce_secret).b.freeze
        # liboidc takes secret and lifetime together; 0 asks for liboidc's default
        # (DEFAULT_DPOP_NONCE_LIFETIME), used when only the secret is given.
        b.call(:set_dpop_nonce_secret, secret, secret.bytesize, Integer(dpop_nonce_lifetime || 0))
      elsif dpop_nonce_lifetime
        raise ArgumentError, "dpop_nonce_lifetime: needs dpop_nonce_secret:"
      end
      if dpop_replay_store
        need.(:set_dpop_replay_store)
        @replay_store_fn = Client.replay_store_function(dpop_replay_store)
        b.call(:set_dpop_replay_store, @replay_store_fn, nil)
      end
      unless require_mtls.nil?
        need.(:set_require_mtls)
        b.call(:set_require_mtls, require_mtls ? 1 : 0)
      end
      return if token_cache_size.nil?

      need.(:set_token_cache_size)
      b.call(:set_token_cache_size, Integer(token_cache_size))
    end
  end
end
