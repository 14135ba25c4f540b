# frozen_string_literal: true

module Oidc
  # PKCE (RFC 7636, S256) plus the state and nonce of one authorization request, from liboidc.
  #
  #   pkce = Oidc::Pkce.new   # => #<Oidc::Pkce challenge="..." state="..." verifier=[FILTERED]>
  #   req = oauth.authorization_url(redirect_uri: cb, scope: "openid", pkce: pkce)
  #   # ... keep pkce.code_verifier, pkce.state and pkce.nonce (e.g. in the session) for the
  #   # callback and the code exchange
  #
  # `Oidc::PKCE` is the same class.
  class Pkce
    # The code verifier (a secret: send it only to the token endpoint, never log it).
    attr_reader :code_verifier
    # The S256 code challenge for the authorization request.
    attr_reader :code_challenge
    # state and nonce for the authorization request (nil from .generate / explicit pairs).
    attr_reader :state, :nonce

    alias verifier code_verifier
    alias challenge code_challenge

    # A fresh verifier (43 characters from 32 random bytes), its S256 challenge, a state and a
    # nonce (oidc_pkce_new). `Pkce.new(verifier, challenge)` wraps an existing pair instead.
    def initialize(verifier = nil, challenge = nil, state: nil, nonce: nil)
      if verifier.nil?
        raise ArgumentError, "challenge without verifier" if challenge

        verifier, challenge, state, nonce = self.class.send(:native_new)
      end
      @code_verifier = verifier.to_s.dup.freeze
      @code_challenge = (challenge || self.class.challenge(@code_verifier)).to_s.dup.freeze
      @state = state&.dup&.freeze
      @nonce = nonce&.dup&.freeze
      freeze
    end

    # Always "S256".
    def code_challenge_method
      Client.need_native(:oidc_pkce_code_challenge_method)
      Oidc.cstr(Native.oidc_pkce_code_challenge_method)
    end

    # A fresh verifier/challenge pair only (oidc_pkce_generate; no state or nonce).
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

    # oidc_pkce_new: copy the four values out of the immutable handle, then free it.
    def self.native_new
      Client.need_native(:oidc_pkce_new)
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_pkce_new(out, e) }
      h = out.read_pointer
      begin
        [Oidc.cstr(Native.oidc_pkce_code_verifier(h)), Oidc.cstr(Native.oidc_pkce_code_challenge(h)),
         Oidc.cstr_or_nil(Native.oidc_pkce_state(h)), Oidc.cstr_or_nil(Native.oidc_pkce_nonce(h))]
      ensure
        Native.oidc_pkce_free(h)
      end
    end
    private_class_method :native_new

    def inspect
      "#<Oidc::Pkce challenge=#{@code_challenge.inspect} state=#{@state.inspect} verifier=[FILTERED]>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  PKCE = Pkce

  module Native
    attach_optional :oidc_pkce_generate, %i[pointer pointer pointer], :uint32
    attach_optional :oidc_pkce_challenge, %i[pointer size_t pointer pointer], :uint32
    attach_optional :oidc_pkce_new, %i[pointer pointer], :uint32
    %i[code_verifier code_challenge state nonce].each do |what|
      attach_optional :"oidc_pkce_#{what}", [:pointer], :pointer
    end
    attach_optional :oidc_pkce_code_challenge_method, [], :pointer
    attach_optional :oidc_pkce_free, [:pointer], :void
  end
end
