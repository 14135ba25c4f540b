# frozen_string_literal: true

module Oidc
  # Several issuers per client, tenant templates, policy documents and explain mode (the C
  # functions, Oidc::Issuer and the Client methods). Which issuer a token belongs to, what a
  # policy document may hold, what an explanation says: all liboidc's; nothing here restates it.
  module Native
    # --- issuer builders (never block) ---
    attach_optional :oidc_issuer_builder_new, %i[pointer size_t pointer err_out], :oidc_result
    attach_optional :oidc_issuer_builder_free, [:pointer], :void
    %i[set_jwks_uri set_jwks_json add_audience set_algorithms set_expected_typ add_required_claim add_tenant
       set_tenant_claim].each do |setter|
      attach_optional :"oidc_issuer_builder_#{setter}", %i[pointer pointer size_t err_out], :oidc_result
    end
    attach_optional :oidc_issuer_builder_set_any_audience, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_issuer_builder_set_any_tenant, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_issuer_builder_set_tenant_bounds, %i[pointer uint32 uint32 uint32 uint32 err_out],
                    :oidc_result
    # consumes the issuer builder in every case
    attach_optional :oidc_validator_builder_add_issuer, %i[pointer pointer err_out], :oidc_result

    # --- policy documents: loading a file reads it (blocking); the export never blocks ---
    attach_optional :oidc_validator_builder_load_policy, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_validator_builder_load_policy_file, %i[pointer pointer size_t err_out], :oidc_result,
                    blocking: true
    attach_optional :oidc_validator_policy_json, %i[pointer pointer pointer err_out], :oidc_result

    # --- explain mode: may fetch keys like a validation (blocking) ---
    attach_optional :oidc_validate_explain, %i[pointer pointer size_t int64 pointer pointer err_out], :oidc_result,
                    blocking: true
    attach_optional :oidc_authenticate_explain, %i[pointer pointer pointer pointer err_out], :oidc_result,
                    blocking: true
  end

  # One more issuer of an Oidc::Client (a migration between identity providers, a second
  # provider, or a multi-tenant template): its own keys and token rules. Rules left unset are
  # the client's (audiences, algorithms, expected_typ; required claims add to the client's).
  #
  #   b = Oidc::Issuer.new(issuer: "https://b.example", jwks_uri: "https://b.example/keys",
  #                        audiences: "api-b")
  #   t = Oidc::Issuer.new(issuer: "https://login.example.com/{tenant}/v2.0", tenants: %w[t1 t2])
  #   client = Oidc::Client.new(issuer: "https://a.example", audiences: "api", issuers: [b, t])
  #
  # The settings go to liboidc at once (a bad one raises here, e.g. Oidc::UnsupportedAlgorithm;
  # the settings as a whole are checked by Client.new). An Issuer is consumed by the
  # Client.new it is given to, also when that raises: giving it to a second client raises
  # Oidc::ClosedError. Client.new also takes the same keywords as a Hash in `issuers:`.
  class Issuer
    # The issuer as given (exact, or a template with one "{tenant}").
    attr_reader :issuer

    # issuer:          the issuer (`iss` of its tokens), or a template with one "{tenant}"
    # jwks_uri:        use this JWKS URL instead of discovery (not for templates)
    # jwks_json:       static key set (String or Hash): no network (not for templates)
    # audiences:       accepted `aud` value(s) of this issuer's tokens (String or Array);
    #                  none: the client's
    # any_audience:    true to accept every audience of this issuer explicitly
    # algorithms:      this issuer's allow-list (Array or "RS256,ES256"); nil: the client's
    # expected_typ:    required JOSE `typ` of this issuer's tokens; nil: the client's
    # required_claims: claims this issuer's tokens must carry (besides the client's)
    # Templates only:
    # tenants:         the allowed tenants (Array of Strings), or :any (explicitly every
    #                  well-formed tenant, within tenant_bounds)
    # tenant_claim:    the claim that must equal the tenant of `iss` (liboidc's default: "tid")
    # tenant_bounds:   { max_tenants:, new_per_window:, window: (seconds), max_in_flight: },
    #                  any of the four (one left out, or 0, keeps liboidc's default)
    def initialize(issuer:, jwks_uri: nil, jwks_json: nil, audiences: [], any_audience: false, algorithms: nil,
                   expected_typ: nil, required_claims: [], tenants: nil, tenant_claim: nil, tenant_bounds: nil)
      Client.need_native(:oidc_issuer_builder_new)
      name = FFISupport.arg(issuer)
      @issuer = name.dup.freeze
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_issuer_builder_new(name, name.bytesize, out, e) }
      @handle = Handle.new(out.read_pointer, :oidc_issuer_builder_free, "Oidc::Issuer")
      @added = false
      begin
        str(:set_jwks_uri, jwks_uri) if jwks_uri
        str(:set_jwks_json, jwks_json.is_a?(Hash) ? JSON.generate(jwks_json) : jwks_json) if jwks_json
        Array(audiences).each { |a| str(:add_audience, a.to_s) }
        call(:set_any_audience, 1) if any_audience
        str(:set_algorithms, Array(algorithms).join(",")) if algorithms
        str(:set_expected_typ, expected_typ) if expected_typ
        Array(required_claims).each { |c| str(:add_required_claim, c.to_s) }
        case tenants
        when nil then nil
        when :any, "any" then call(:set_any_tenant, 1)
        when Array then tenants.each { |t| str(:add_tenant, t.to_s) }
        else raise ArgumentError, "tenants: must be an Array of tenants or :any, got #{tenants.class}"
        end
        str(:set_tenant_claim, tenant_claim) if tenant_claim
        set_tenant_bounds(tenant_bounds) if tenant_bounds
      rescue StandardError
        @handle.close
        raise
      end
    end

    # Build from an Issuer (returned as is) or a Hash of #initialize's keywords.
    def self.coerce(value)
      case value
      when Issuer then value
      when Hash then new(**value.transform_keys(&:to_sym))
      else raise TypeError, "issuers: expected Oidc::Issuer or Hash, got #{value.class}"
      end
    end

    # True once a Client.new took it (it can be given to no other client).
    def added?
      @added
    end

    # Free the native settings of an issuer that will not be added (the GC does it too).
    # Harmless after Client.new took it, or twice.
    def close
      @handle.close unless @added
      nil
    end

    def closed?
      @handle.closed?
    end

    def inspect
      state = if @added then " added"
              elsif closed? then " closed"
              end
      "#<Oidc::Issuer #{@issuer.inspect}#{state}>"
    end
    alias to_s inspect

    # For Client.new: hand the native issuer builder over (to oidc_validator_builder_add_issuer,
    # which consumes it). Raises ClosedError when it was handed over or closed before.
    def take
      raise ClosedError, "#{inspect} was already added to a client (an Oidc::Issuer is consumed by Client.new)" if @added

      raw = @handle.take
      @added = true
      raw
    end

    # Raise unless #take would succeed (Client.new checks every entry before taking any).
    def check_unused
      raise ClosedError, "#{inspect} was already added to a client (an Oidc::Issuer is consumed by Client.new)" if @added
      raise ClosedError, "#{inspect} is closed" if closed?
    end

    private

    def str(setter, value)
      s = FFISupport.arg(value)
      @handle.use do |ptr|
        FFISupport.check { |e| Native.public_send(:"oidc_issuer_builder_#{setter}", ptr, s, s.bytesize, e) }
      end
    end

    def call(setter, *args)
      @handle.use { |ptr| FFISupport.check { |e| Native.public_send(:"oidc_issuer_builder_#{setter}", ptr, *args, e) } }
    end

    def set_tenant_bounds(bounds)
      raise TypeError, "tenant_bounds: expected a Hash, got #{bounds.class}" unless bounds.is_a?(Hash)

      keys = %i[max_tenants new_per_window window max_in_flight]
      b = bounds.transform_keys(&:to_sym)
      unknown = b.keys - keys
      raise ArgumentError, "tenant_bounds: unknown #{unknown.inspect} (known: #{keys.inspect})" unless unknown.empty?

      values = keys.map do |k|
        v = Integer(b.fetch(k, 0))
        raise ArgumentError, "tenant_bounds: #{k} must be 0..#{0xffffffff}, got #{v}" unless v.between?(0, 0xffffffff)

        v
      end
      call(:set_tenant_bounds, *values)
    end
  end

  class Client
    # This client's configuration as a policy document (JSON text, every member written,
    # defaults included; liboidc's export). Loading it with `Client.new(policy: ...)` builds
    # a client that decides the same. Not in it: the DPoP nonce secret, a replay store, the
    # prefetch mode (see the README of liboidc, "Policy document"); nor, as liboidc's
    # documents have no members for them yet, the JOSE keywords (decryption_keys:,
    # decryption_algorithms:, accept_encrypted:, revocation:): give those again as keywords.
    def policy_json
      Client.need_native(:oidc_validator_policy_json)
      out = FFI::MemoryPointer.new(:pointer)
      len = FFI::MemoryPointer.new(:size_t)
      @handle.use { |ptr| FFISupport.check { |e| Native.oidc_validator_policy_json(ptr, out, len, e) } }
      FFISupport.take_string(out.read_pointer, len.read(:size_t))
    end

    # #policy_json parsed (a Hash).
    def policy
      JSON.parse(policy_json)
    end

    # Explain the validation of `token`: every check with its outcome (which issuer was chosen
    # and why, header, key and signature, each claim rule), not only the first failure, as
    # liboidc's JSON document parsed into a Hash ("decision" => "allow" or "deny", "code",
    # "issuer", "checks", ...). A refused token is an answer here, not an exception; raises only
    # for a misuse or a closed client. Never contains the token text or its signature.
    # now: check the time claims as of this Time / Unix second (default: the clock).
    def explain(token, now: nil)
      JSON.parse(explain_json(token, now: now))
    end

    # #explain's document as liboidc wrote it (a JSON String).
    def explain_json(token, now: nil)
      Client.need_native(:oidc_validate_explain)
      tok = FFISupport.bytes(token)
      at = now.nil? ? 0 : now.to_i
      out = FFI::MemoryPointer.new(:pointer)
      len = FFI::MemoryPointer.new(:size_t)
      @handle.use do |ptr|
        FFISupport.check { |e| Native.oidc_validate_explain(ptr, tok, tok.bytesize, at, out, len, e) }
      end
      FFISupport.take_string(out.read_pointer, len.read(:size_t))
    end

    # Explain #authenticate for one request (same keywords): every rule with its outcome
    # (credentials, DPoP proof and nonce, the token's own explanation as in #explain, binding,
    # each required scope and claim-value rule), parsed into a Hash. No side effect (a DPoP
    # proof's jti is not recorded). A request that would be denied is an answer
    # ("decision" => "deny"), not an exception.
    def authenticate_explain(method:, url:, authorization: nil, dpop: nil, client_cert: nil, now: nil)
      JSON.parse(authenticate_explain_json(method: method, url: url, authorization: authorization, dpop: dpop,
                                           client_cert: client_cert, now: now))
    end

    # #authenticate_explain's document as liboidc wrote it (a JSON String).
    def authenticate_explain_json(method:, url:, authorization: nil, dpop: nil, client_cert: nil, now: nil)
      Client.need_native(:oidc_authenticate_explain)
      req, out, err, len = Thread.current[AUTHN_KEY] || Client.authn_buffers
      Client.fill_request(req, err, method, url, authorization, dpop, client_cert, now)
      rc = @handle.use { |ptr| Native.oidc_authenticate_explain(ptr, req, out, len, err) }
      Client.put(rc, err) unless rc.zero?
      FFISupport.take_string(out.read_pointer, len.read(:size_t))
    end

    class << self
      # Client.new's `issuers:`: every entry an Issuer or a Hash, none used before; then take
      # them all (the caller frees what it does not hand to liboidc).
      def take_issuers(issuers)
        list = Array(issuers)
        return [] if list.empty?

        need_native(:oidc_validator_builder_add_issuer)
        list = list.map { |i| Issuer.coerce(i) }
        list.each(&:check_unused)
        list.map(&:take)
      end

      # policy: a JSON String (or a Hash, written as JSON); policy_file: a path.
      def load_policy(b, policy, policy_file)
        if policy_file
          need_native(:oidc_validator_builder_load_policy_file)
          b.str(:load_policy_file, policy_file.respond_to?(:to_path) ? policy_file.to_path : policy_file)
        end
        return unless policy

        need_native(:oidc_validator_builder_load_policy)
        b.str(:load_policy, policy.is_a?(Hash) ? JSON.generate(policy) : policy)
      end
    end
  end
end
