# frozen_string_literal: true

require "json"

module Oidc
  # The claims of a validated token: a read-only Hash-like view (string keys; symbols are
  # accepted for lookup) plus accessors for the registered claims.
  #
  # liboidc hands the claims over as JSON; they are parsed on first access (a caller that only
  # needs the decision, or forwards #to_json, never pays for the parse). Parsing is idempotent,
  # so a Claims object may be shared between threads.
  class Claims
    include Enumerable

    def self.from_json(json)
      new(nil, json.freeze)
    end

    def initialize(hash, json = nil)
      raise ArgumentError, "claims hash or JSON required" if hash.nil? && json.nil?

      @h = hash&.freeze
      @json = json
    end

    def [](key)
      h[key.to_s]
    end

    def fetch(key, *default, &block)
      h.fetch(key.to_s, *default, &block)
    end

    def key?(key)
      h.key?(key.to_s)
    end
    alias include? key?
    alias has_key? key?

    def dig(key, *rest)
      h.dig(key.to_s, *rest)
    end

    def each(&block)
      return enum_for(:each) { h.size } unless block

      h.each(&block)
      self
    end

    def keys = h.keys
    def size = h.size
    def empty? = h.empty?

    # A mutable copy of the claims.
    def to_h
      h.dup
    end

    # The claims JSON exactly as liboidc produced it.
    def to_json(*args)
      args.empty? && @json ? @json.dup : h.to_json(*args)
    end

    def ==(other)
      other.is_a?(Claims) ? other.to_h == h : other == h
    end

    def inspect
      "#<Oidc::Claims #{h.inspect}>"
    end
    alias to_s inspect

    # `sub`
    def subject = h["sub"]

    # `iss`
    def issuer = h["iss"]

    # `aud` as an Array (a single audience is a one-element Array).
    def audiences
      aud = h["aud"]
      aud.nil? ? [] : Array(aud)
    end

    # `client_id` (RFC 9068) or, failing that, `azp`.
    def client_id = h["client_id"] || h["azp"]

    # `jti`
    def jwt_id = h["jti"]

    # `exp` as a Time (nil when absent).
    def expires_at = time(h["exp"])

    # `iat` as a Time (nil when absent).
    def issued_at = time(h["iat"])

    # `nbf` as a Time (nil when absent).
    def not_before = time(h["nbf"])

    private

    def h
      @h ||= JSON.parse(@json, freeze: true)
    end

    def time(v)
      v.is_a?(Numeric) ? Time.at(v) : nil
    end
  end
end
