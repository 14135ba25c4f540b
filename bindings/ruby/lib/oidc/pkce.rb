# frozen_string_literal: true

module Oidc
  # PKCE (RFC 7636, S256) from liboidc.
  #
  #   pkce = Oidc::PKCE.generate   # => #<Oidc::PKCE challenge="..." verifier=[FILTERED]>
  #   oauth.authorization_url(redirect_uri: cb, scope: "openid", code_challenge: pkce.challenge)
  #   # ... keep pkce.verifier for the code exchange
  class PKCE
    attr_reader :verifier, :challenge

    # A fresh pair: a 43-character verifier from 32 random bytes and its S256 challenge.
    def self.generate
      Client.need_native(:oidc_pkce_generate)
      v = FFI::MemoryPointer.new(:pointer)
      c = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_pkce_generate(v, c, e) }
      verifier = FFISupport.take_cstring(v.read_pointer)
      challenge = FFISupport.take_cstring(c.read_pointer)
      new(verifier, challenge)
    end

    # The S256 challenge of `verifier` (43-128 characters of A-Z a-z 0-9 - . _ ~).
    def self.challenge(verifier)
      Client.need_native(:oidc_pkce_challenge)
      s = FFISupport.bytes(verifier)
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_pkce_challenge(s, s.bytesize, out, e) }
      FFISupport.take_cstring(out.read_pointer)
    end

    def initialize(verifier, challenge)
      @verifier = verifier.freeze
      @challenge = challenge.freeze
      freeze
    end

    def inspect
      "#<Oidc::PKCE challenge=#{@challenge.inspect} verifier=[FILTERED]>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  module Native
    attach_optional :oidc_pkce_generate, %i[pointer pointer pointer], :uint32
    attach_optional :oidc_pkce_challenge, %i[pointer size_t pointer pointer], :uint32
  end
end
