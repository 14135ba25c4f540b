# frozen_string_literal: true

require "base64"
require "json"

module Oidc
  # JOSE breadth (liboidc issue 14): the C functions for encrypted tokens (JWE), signed
  # revocation lists, static key sets and request objects of the protocol client, back-channel
  # logout tokens; the result objects of OAuthClient#verify_jws / #decrypt /
  # #validate_logout_token; and the translation of the constructors' keywords to builder
  # calls. Every check (key parsing, algorithm allow-lists, decryption, revocation, logout-token
  # rules, replay) is liboidc's; nothing here restates one.
  module Native
    # --- validator builder (never block) ---
    attach_optional :oidc_validator_builder_add_decryption_key, %i[pointer pointer size_t pointer size_t err_out],
                    :oidc_result
    attach_optional :oidc_validator_builder_set_decryption_algorithms, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_accept_encrypted, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_validator_builder_set_revocation, %i[pointer pointer size_t uint32 uint32 err_out],
                    :oidc_result
    attach_optional :oidc_validator_builder_set_revocation_bounds, %i[pointer uint32 uint32 err_out], :oidc_result
    # waits for a key fetch in flight (bounded by the timeouts): release the GVL
    attach_optional :oidc_validator_drop_keys, %i[pointer pointer size_t err_out], :oidc_result, blocking: true

    # --- protocol client builder (never block) ---
    attach_optional :oidc_oauth_builder_add_decryption_key, %i[pointer pointer size_t pointer size_t err_out],
                    :oidc_result
    attach_optional :oidc_oauth_builder_set_decryption_algorithms, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_oauth_builder_set_jwks_json, %i[pointer pointer size_t err_out], :oidc_result
    attach_optional :oidc_oauth_builder_set_request_object, %i[pointer pointer size_t pointer size_t err_out],
                    :oidc_result
    # the callback type is oidc_replay_store_cb (lib/oidc/authn.rb)
    attach_optional :oidc_oauth_builder_set_replay_store, %i[pointer oidc_replay_store_cb pointer err_out],
                    :oidc_result
    attach_optional :oidc_oauth_builder_set_logout_accept_untyped, %i[pointer uint32 err_out], :oidc_result
    attach_optional :oidc_oauth_builder_set_algorithms, %i[pointer pointer size_t err_out], :oidc_result
  end

  # What OAuthClient#verify_jws and OAuthClient#decrypt return: the payload and the protected
  # header liboidc verified (or decrypted). A decrypted payload may be a secret: #inspect shows
  # only its size and the header's alg / enc / kid.
  class JosePayload
    # payload: the bytes (a BINARY String); text: the same as UTF-8 when it is valid UTF-8
    # (else nil); header: the protected header (a Hash).
    attr_reader :payload, :text, :header

    # From a response of OIDC_OP_VERIFY_JWS / OIDC_OP_DECRYPT (its JSON is
    # {"header": {..}, "payload_b64url": "..", "payload": ".."}).
    def self.from_response(r)
      h = r.to_h
      text, header = r.strings(:payload, :protected_header)
      new(payload: Base64.urlsafe_decode64(h.fetch("payload_b64url")),
          text: text, header: header ? JSON.parse(header) : h.fetch("header"))
    end

    def initialize(payload:, text:, header:)
      @payload = payload.b.freeze
      @text = text&.dup&.force_encoding(Encoding::UTF_8)&.freeze
      @header = header.freeze
      freeze
    end

    # The payload parsed as JSON (raises JSON::ParserError when it is not JSON).
    def json
      JSON.parse(@text || @payload)
    end

    def alg = @header["alg"]
    def kid = @header["kid"]

    def inspect
      enc = @header["enc"] ? " enc=#{@header['enc'].inspect}" : ""
      "#<Oidc::JosePayload alg=#{alg.inspect}#{enc} kid=#{kid.inspect} payload=[#{@payload.bytesize} bytes]>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  # A validated back-channel logout token (OAuthClient#validate_logout_token): #claims (an
  # Oidc::Claims of every claim), #iss, #sub and #sid (either may be nil, not both), #jti.
  class LogoutToken
    attr_reader :claims, :iss, :sub, :sid, :jti

    def initialize(claims:, iss:, sub:, sid:, jti:)
      @claims = claims
      @iss = iss&.freeze
      @sub = sub&.freeze
      @sid = sid&.freeze
      @jti = jti&.freeze
      freeze
    end

    alias issuer iss
    alias subject sub
    alias session_id sid

    def inspect
      "#<Oidc::LogoutToken iss=#{@iss.inspect} sub=#{@sub.inspect} sid=#{@sid.inspect} jti=#{@jti.inspect}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  # The constructors' JOSE keywords on a native builder (translation only).
  module JoseOptions
    module_function

    REVOCATION_POLICIES = { fail_closed: 1, fail_open: 2 }.freeze
    REVOCATION_KEYS = %i[policy url grace min_interval max_interval].freeze

    # decryption_keys: one key or an Array of them; each a String (PEM, or a private JWK as
    # JSON), a private JWK as a Hash (with "kty"), or { key: String_or_JWK_Hash, kid: "..." }.
    # Each goes to liboidc at once (it parses and checks it; a bad key raises here) and is not
    # kept in Ruby. `prefix`: "oidc_validator_builder" or "oidc_oauth_builder".
    def add_decryption_keys(b, prefix, keys)
      fn = :"#{prefix}_add_decryption_key"
      Client.need_native(fn)
      list = keys.is_a?(Array) ? keys : [keys]
      list.each_with_index do |entry, i|
        key, kid = decryption_key_entry(entry, i)
        k = FFISupport.bytes(key)
        d = kid && FFISupport.bytes(kid.to_s)
        FFISupport.check { |e| Native.public_send(fn, b.ptr, k, k.bytesize, d, d ? d.bytesize : 0, e) }
      end
    end

    def decryption_key_entry(entry, index)
      case entry
      when String then [entry, nil]
      when Hash
        h = entry.transform_keys(&:to_s)
        if h.key?("key")
          unknown = h.keys - %w[key kid]
          raise ArgumentError, "decryption_keys[#{index}]: unknown #{unknown.inspect} (known: key, kid)" unless unknown.empty?

          key = h["key"]
          [key.is_a?(Hash) ? JSON.generate(key) : key, h["kid"]]
        else
          [JSON.generate(entry), nil] # a JWK
        end
      else
        raise TypeError, "decryption_keys[#{index}]: expected a String (PEM or JWK JSON), a JWK Hash or " \
                         "{ key:, kid: }, got #{entry.class}"
      end
    end

    # decryption_algorithms: an Array of alg and enc names, or one String (space or comma
    # separated), as liboidc reads it.
    def set_decryption_algorithms(b, prefix, algorithms)
      Client.need_native(:"#{prefix}_set_decryption_algorithms")
      b.str(:set_decryption_algorithms, algorithms.is_a?(Array) ? algorithms.join(" ") : algorithms.to_s)
    end

    # revocation: { policy: :fail_closed | :fail_open (required), url: nil (liboidc's default
    # <issuer>/.well-known/revocation-list), grace: seconds (nil: liboidc's default),
    # min_interval:, max_interval: seconds (the poll bounds; nil keeps liboidc's default) }.
    def set_revocation(b, revocation)
      raise TypeError, "revocation: expected a Hash, got #{revocation.class}" unless revocation.is_a?(Hash)

      r = revocation.transform_keys(&:to_sym)
      unknown = r.keys - REVOCATION_KEYS
      raise ArgumentError, "revocation: unknown #{unknown.inspect} (known: #{REVOCATION_KEYS.inspect})" unless unknown.empty?

      policy = r.fetch(:policy) do
        raise ArgumentError, "revocation: needs policy: (one of #{REVOCATION_POLICIES.keys.inspect})"
      end
      code = REVOCATION_POLICIES.fetch(policy.to_s.to_sym) do
        raise ArgumentError, "revocation: policy: must be one of #{REVOCATION_POLICIES.keys.inspect}"
      end
      Client.need_native(:oidc_validator_builder_set_revocation)
      url = r[:url] && FFISupport.bytes(r[:url].to_s)
      b.call(:set_revocation, url, url ? url.bytesize : 0, code, uint32(r[:grace], "revocation: grace"))
      return if r[:min_interval].nil? && r[:max_interval].nil?

      Client.need_native(:oidc_validator_builder_set_revocation_bounds)
      b.call(:set_revocation_bounds, uint32(r[:min_interval], "revocation: min_interval"),
             uint32(r[:max_interval], "revocation: max_interval"))
    end

    # request_object: true (sign every authorization request, RFC 9101), or
    # { enc_alg: "RSA-OAEP-256", enc: "A256GCM" } (sign, then encrypt to the issuer).
    def set_request_object(b, request_object)
      Client.need_native(:oidc_oauth_builder_set_request_object)
      alg = enc = nil
      if request_object.is_a?(Hash)
        r = request_object.transform_keys(&:to_sym)
        unknown = r.keys - %i[enc_alg enc]
        raise ArgumentError, "request_object: unknown #{unknown.inspect} (known: enc_alg, enc)" unless unknown.empty?

        alg = r[:enc_alg] && FFISupport.bytes(r[:enc_alg].to_s)
        enc = r[:enc] && FFISupport.bytes(r[:enc].to_s)
      elsif request_object != true
        raise TypeError, "request_object: expected true or { enc_alg:, enc: }, got #{request_object.class}"
      end
      b.call(:set_request_object, alg, alg ? alg.bytesize : 0, enc, enc ? enc.bytesize : 0)
    end

    # nil: 0 (liboidc's default); else an Integer in 0..UINT32_MAX (no wrap of negatives).
    def uint32(value, what)
      return 0 if value.nil?

      v = Integer(value)
      raise ArgumentError, "#{what} must be 0..#{0xffffffff}, got #{v}" unless v.between?(0, 0xffffffff)

      v
    end
  end
end
