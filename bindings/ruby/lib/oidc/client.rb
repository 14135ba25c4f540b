# frozen_string_literal: true

module Oidc
  # A validating client for one issuer (or several: issuers:, Oidc::Issuer): checks bearer
  # tokens (JWT access tokens) against the issuer's keys and the configured policy. All the policy lives in liboidc; this class only
  # configures it and maps results to Ruby objects and exceptions.
  #
  # Thread safe: one client may validate from any number of threads at once. Validation
  # releases the GVL, and with cached keys never touches the network.
  #
  #   client = Oidc::Client.new(issuer: "https://idp.example.com", audiences: "https://api.example.com")
  #   claims = client.validate(token)   # => Oidc::Claims, or raises Oidc::TokenError & co.
  #   client.close                      # optional: the GC frees a forgotten client
  class Client
    attr_reader :issuer, :audiences, :realm

    # issuer:              expected `iss`; discovery at {issuer}/.well-known/openid-configuration
    #                      (optional with issuers: or a policy document that names issuers)
    # audiences:           accepted `aud` value(s) (String or Array); any one must match
    # any_audience:        true to accept every audience explicitly (instead of audiences:)
    # algorithms:          allow-list (Array or "RS256,ES256"); default RS/PS/ES/EdDSA
    # expected_typ:        required JOSE `typ`, e.g. "at+jwt" (RFC 9068)
    # required_claims:     claims that must be present and not null
    # leeway:              clock-skew leeway in seconds (default 60)
    # max_token_bytes:     token size bound (default 16 KiB)
    # ca_file:             extra PEM CA file to trust (besides the system store / SSL_CERT_FILE)
    # jwks_uri:            use this JWKS URL instead of discovery
    # jwks_json:           static key set (String or Hash): no network at all
    # allow_http_loopback: allow http:// to 127.0.0.1/::1/localhost (development only)
    # proxy:               HTTP CONNECT proxy "http://[user:password@]host:port" for every
    #                      request (its credentials never appear in messages)
    # proxy_from_env:      true: use https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY (off by default)
    # connect_timeout:     seconds (default 5)
    # timeout:             total seconds per request (default 10)
    # max_response_bytes:  bound on discovery/JWKS bodies (default 512 KiB)
    # realm:               realm named in WWW-Authenticate values
    # cache:               {ttl_min:, ttl_max:, refresh_cooldown:, stale_if_error:} in seconds
    # prefetch:            warm start at construction: :fail_fast (fetch discovery and keys
    #                      now; new raises the fetch's error) or :background (fetch on
    #                      liboidc's worker pool; failures are logged, the first validation
    #                      retries); default nil = on first use
    #
    # Resource-server rules, applied by #authenticate (liboidc decides; see Oidc::Decision):
    # required_scopes:     scopes every request's token must grant (all of them; 403
    #                      insufficient_scope naming the missing ones otherwise)
    # claim_values:        { "client_id" => ["svc", "web"], ... }: the claim must hold one of
    #                      the values (403 otherwise)
    # dpop_mode:           :allowed (default: Bearer for unbound tokens, DPoP for DPoP-bound
    #                      ones), :required (DPoP only) or :disabled (Bearer only)
    # dpop_algorithms:     DPoP proof algorithms (Array or "ES256,EdDSA"); sent as the DPoP
    #                      challenge's algs
    # dpop_proof_window:   seconds a proof's iat may lie in the past (default 60)
    # dpop_nonce_secret:   turn on stateless server nonces (16 to 1024 bytes, the same in every
    #                      process of a fleet); dpop_nonce_lifetime: seconds (default: liboidc's, 300)
    # dpop_replay_store:   a store shared by a fleet (e.g. Redis), consulted after the
    #                      process-wide replay cache: ->(key, ttl_secs) { ... } must record
    #                      `key` for `ttl_secs` if absent, atomically (Redis: SET key 1 NX EX ttl),
    #                      and return true when it was absent, false when present (a replay);
    #                      anything else or an exception denies the request 503. It runs on
    #                      the thread calling #authenticate; it must not throw/break out.
    # require_mtls:        true: only certificate-bound tokens (RFC 8705)
    # token_cache_size:    verified-token cache entries (0 turns it off; default 4096)
    #
    # Encrypted tokens and signed revocation lists (see the README, "JOSE"):
    # decryption_keys:     private keys for encrypted tokens (JWE): one or an Array, each a PEM
    #                      String, a private JWK (Hash or JSON String) or { key:, kid: };
    #                      parsed by liboidc now, not kept in Ruby
    # decryption_algorithms: the JWE alg and enc names accepted (Array or "RSA-OAEP-256 A256GCM");
    #                      default liboidc's (every supported one but RSA1_5 and dir)
    # accept_encrypted:    true: accept encrypted access tokens (nested JWT; needs decryption_keys:)
    # revocation:          check tokens against the issuer's signed revocation list:
    #                      { policy: :fail_closed | :fail_open (required), url: (default
    #                      <issuer>/.well-known/revocation-list), grace: seconds a stale list keeps
    #                      serving, min_interval: / max_interval: the poll bounds in seconds }
    #
    # Several issuers and policy documents (see Oidc::Issuer and the README):
    # issuers:             more issuers, each an Oidc::Issuer or a Hash of its keywords; a token
    #                      is checked against the one its `iss` names (consumed: see Issuer)
    # policy:              a policy document (JSON String, or a Hash written as JSON); loaded
    #                      first, so the other keywords given apply on top of it (settings
    #                      replace the document's, lists and issuers: add to them)
    # policy_file:         the path of a policy document (loaded before policy:)
    def initialize(issuer: nil, audiences: [], any_audience: false, algorithms: nil, expected_typ: nil,
                   required_claims: [], leeway: nil, max_token_bytes: nil, ca_file: nil, jwks_uri: nil,
                   jwks_json: nil, allow_http_loopback: false, proxy: nil, proxy_from_env: false,
                   connect_timeout: nil, timeout: nil,
                   max_response_bytes: nil, realm: nil, cache: nil, prefetch: nil,
                   required_scopes: nil, claim_values: nil, dpop_mode: nil, dpop_algorithms: nil,
                   dpop_proof_window: nil, dpop_nonce_secret: nil, dpop_nonce_lifetime: nil,
                   dpop_replay_store: nil, require_mtls: nil, token_cache_size: nil,
                   issuers: nil, policy: nil, policy_file: nil, decryption_keys: nil, decryption_algorithms: nil,
                   accept_encrypted: nil, revocation: nil)
      @issuer = issuer&.to_s&.dup&.freeze
      @audiences = Array(audiences).map { |a| a.to_s.dup.freeze }.freeze
      @realm = realm&.to_s&.dup&.freeze
      # taken (consumed) now, whatever happens below; freed unless handed to liboidc
      taken = Client.take_issuers(issuers)
      raw = NativeBuilder.open("oidc_validator_builder") do |b|
        Client.load_policy(b, policy, policy_file)
        b.str(:set_issuer, @issuer) if @issuer
        @audiences.each { |a| b.str(:add_audience, a) }
        b.call(:set_any_audience, 1) if any_audience
        b.str(:set_algorithms, Array(algorithms).join(",")) if algorithms
        b.str(:set_expected_typ, expected_typ) if expected_typ
        Array(required_claims).each { |c| b.str(:add_required_claim, c.to_s) }
        b.call(:set_leeway_secs, Integer(leeway)) if leeway
        b.call(:set_max_token_bytes, Integer(max_token_bytes)) if max_token_bytes
        b.call(:set_max_response_bytes, Integer(max_response_bytes)) if max_response_bytes
        b.str(:set_ca_file, ca_file.to_s) if ca_file
        b.str(:set_jwks_uri, jwks_uri) if jwks_uri
        b.str(:set_jwks_json, jwks_json.is_a?(String) ? jwks_json : JSON.generate(jwks_json)) if jwks_json
        b.call(:set_allow_http_loopback, 1) if allow_http_loopback
        b.str(:set_proxy, proxy.to_s) if proxy
        b.call(:set_proxy_from_env, 1) if proxy_from_env
        if connect_timeout || timeout
          # 0 keeps liboidc's setting (its default, or a policy document's) for the one not given
          b.call(:set_timeouts_ms, connect_timeout ? NativeBuilder.ms(connect_timeout, "connect_timeout") : 0,
                 timeout ? NativeBuilder.ms(timeout, "timeout") : 0)
        end
        b.str(:set_realm, @realm) if @realm
        if cache
          c = { ttl_min: 60, ttl_max: 86_400, refresh_cooldown: 30, stale_if_error: 21_600 }.merge(cache)
          b.call(:set_cache_policy_secs, *c.values_at(:ttl_min, :ttl_max, :refresh_cooldown, :stale_if_error).map { |v| Integer(v) })
        end
        if prefetch
          mode = PREFETCH_MODES.fetch(prefetch.to_sym) do
            raise ArgumentError, "prefetch: must be one of #{PREFETCH_MODES.keys.inspect}"
          end
          Client.need_native(:oidc_validator_builder_set_prefetch)
          b.call(:set_prefetch, mode)
        end
        configure_resource(b, required_scopes: required_scopes, claim_values: claim_values, dpop_mode: dpop_mode,
                              dpop_algorithms: dpop_algorithms, dpop_proof_window: dpop_proof_window,
                              dpop_nonce_secret: dpop_nonce_secret, dpop_nonce_lifetime: dpop_nonce_lifetime,
                              dpop_replay_store: dpop_replay_store, require_mtls: require_mtls,
                              token_cache_size: token_cache_size)
        JoseOptions.add_decryption_keys(b, "oidc_validator_builder", decryption_keys) if decryption_keys
        JoseOptions.set_decryption_algorithms(b, "oidc_validator_builder", decryption_algorithms) if decryption_algorithms
        unless accept_encrypted.nil?
          Client.need_native(:oidc_validator_builder_set_accept_encrypted)
          b.call(:set_accept_encrypted, accept_encrypted ? 1 : 0)
        end
        JoseOptions.set_revocation(b, revocation) if revocation
        taken.each_index do |i|
          ib = taken[i]
          taken[i] = nil # consumed by the call in every case
          b.call(:add_issuer, ib)
        end
        b.build
      end
      @handle = Handle.new(raw, :oidc_validator_free, "Oidc::Client")
    ensure
      taken&.each { |ib| Handle.releaser(:oidc_issuer_builder_free).call(ib) if ib }
    end

    # Validate a bearer token; returns its Oidc::Claims or raises an Oidc::Error subclass
    # (Oidc::TokenExpired, Oidc::SignatureInvalid, ... all Oidc::TokenError; Oidc::NetworkError /
    # Oidc::ConfigError when keys could not be obtained). May block (GVL released) only when the
    # keys are not cached yet.
    def validate(token)
      call_validate(token, nil)
    end

    # Like #validate, but checks exp/nbf/iat as of `time` (Time or seconds since the epoch).
    def validate_at(token, time)
      call_validate(token, time.to_i)
    end

    PREFETCH_MODES = { none: 0, fail_fast: 1, background: 2 }.freeze

    # A JSON snapshot of this client's cached keys and metadata (public data only, no secrets)
    # for Oidc.cache_import in a fresh process.
    def cache_export
      Client.need_native(:oidc_cache_export_json)
      @handle.use { |ptr| Oidc.send(:cache_export_native, ptr) }
    end

    # For the binding: yields the native pointer while a call uses it.
    def use(&block)
      @handle.use(&block)
    end

    # Fetch discovery and keys now, so the first request does not wait (and the revocation
    # list, when revocation: is configured; a failure raises). Returns self.
    def prefetch
      @handle.use do |ptr|
        FFISupport.check { |e| Native.oidc_validator_prefetch(ptr, e) }
      end
      self
    end

    # Drop the cached keys of `issuer` (nil: every issuer of this client) at once, e.g. after a
    # key compromise: the next validation fetches them again (its verified-token cache is
    # emptied too). An issuer this client does not serve raises Oidc::InvalidArgument; a
    # static-key client has nothing to drop. Waits for a key fetch in flight (GVL released).
    # Returns self.
    def drop_keys(issuer = nil)
      Client.need_native(:oidc_validator_drop_keys)
      iss = issuer && FFISupport.bytes(issuer.to_s)
      @handle.use do |ptr|
        FFISupport.check { |e| Native.oidc_validator_drop_keys(ptr, iss, iss ? iss.bytesize : 0, e) }
      end
      self
    end

    # Free the native client. Calls still running on other threads finish first; later calls
    # raise Oidc::ClosedError. Closing twice is harmless.
    def close
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    def inspect
      "#<Oidc::Client issuer=#{@issuer.inspect} audiences=#{@audiences.inspect}#{' closed' if closed?}>"
    end
    alias to_s inspect

    # Raise UnsupportedError unless the loaded liboidc exports `fn` (functions newer than the
    # library are attached with Native.attach_optional).
    def self.need_native(fn)
      return if Native.available?(fn)

      raise UnsupportedError, "#{fn} is not exported by the loaded liboidc #{Oidc.library_version}"
    end

    PTR_SIZE = FFI.type_size(:pointer)
    OUT_KEY = :__oidc_validate_out
    private_constant :PTR_SIZE, :OUT_KEY

    private

    # The three out-params of oidc_validate (claims*, claims_len, err*) in one buffer, reused by
    # every validation on this fiber (Thread#[] is fiber-local, and nothing between the call
    # and reading the results can switch to another validation on the same fiber). Saves three
    # allocations per call on the hot path.
    def out_params
      Thread.current[OUT_KEY] ||= begin
        buf = FFI::MemoryPointer.new(:pointer, 3)
        [buf, buf + PTR_SIZE, buf + (2 * PTR_SIZE)].freeze
      end
    end

    def call_validate(token, at)
      tok = FFISupport.bytes(token)
      out, len_p, err_p = out_params
      rc = @handle.use do |ptr|
        if at
          Native.oidc_validate_at(ptr, tok, tok.bytesize, at, out, len_p, err_p)
        else
          Native.oidc_validate(ptr, tok, tok.bytesize, out, len_p, err_p)
        end
      end
      raise Error.from_native(rc, err_p.read_pointer) unless rc.zero?

      Claims.from_json(FFISupport.take_string(out.read_pointer, len_p.read(:size_t)))
    end
  end
end
