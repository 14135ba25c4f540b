# frozen_string_literal: true

require "json"

module Oidc
  # A dynamic client registration response (RFC 7591). It holds secrets (client_secret,
  # registration_access_token): #inspect shows neither.
  class Registration
    SECRET_MEMBERS = %w[client_secret registration_access_token].freeze

    def initialize(json)
      @raw_json = json
      @h = JSON.parse(json).freeze
      freeze
    end

    def client_id = @h["client_id"]
    def client_secret = @h["client_secret"]
    def registration_access_token = @h["registration_access_token"]
    def registration_client_uri = @h["registration_client_uri"]

    def [](key)
      @h[key.to_s]
    end

    # The whole response (contains secrets: never log it).
    def raw
      JSON.parse(@raw_json)
    end

    def inspect
      shown = @h.to_h { |k, v| [k, SECRET_MEMBERS.include?(k) ? "[FILTERED]" : v] }
      "#<Oidc::Registration #{shown.inspect}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  class OAuthClient
    # Register a client (RFC 7591) at `issuer` with `metadata` (Hash or JSON String) and an
    # optional initial access token. Takes the connection options of ::new. Returns an
    # Oidc::Registration; then build the client with its client_id / client_secret. Errors keep
    # the server's code (Oidc::InvalidClientMetadata, Oidc::InvalidRedirectUri).
    def self.register(issuer:, metadata:, initial_access_token: nil, **connection)
      Client.need_native(:oidc_oauth_register)
      md = FFISupport.bytes(metadata.is_a?(String) ? metadata : JSON.generate(metadata))
      iat = initial_access_token && FFISupport.bytes(initial_access_token)
      NativeBuilder.open("oidc_oauth_builder") do |b|
        configure(b, issuer: issuer, **connection)
        out = FFI::MemoryPointer.new(:pointer)
        len = FFI::MemoryPointer.new(:size_t)
        FFISupport.check do |e|
          Native.oidc_oauth_register(b.ptr, md, md.bytesize, iat, iat ? iat.bytesize : 0, out, len, e)
        end
        Registration.new(FFISupport.take_string(out.read_pointer, len.read(:size_t)))
      end
    end
  end

  module Native
    attach_optional :oidc_oauth_register,
                    %i[pointer pointer size_t pointer size_t pointer pointer pointer], :uint32, blocking: true
  end
end
