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
    # optional initial access token, through a client without client_id built with the
    # connection options of ::new. Returns an Oidc::Registration; then build the client with its
    # client_id / client_secret. Errors keep the server's code (Oidc::InvalidClientMetadata,
    # Oidc::InvalidRedirectUri).
    def self.register(issuer:, metadata:, initial_access_token: nil, **connection)
      client = new(issuer: issuer, **connection)
      begin
        client.register(metadata: metadata, initial_access_token: initial_access_token)
      ensure
        client.close
      end
    end

    # #register on this client (OIDC_OP_REGISTER). `params`: further metadata members.
    def register(metadata:, initial_access_token: nil, params: nil, timeout: nil, cancel: nil)
      perform(:register, metadata:, initial_access_token:, params:, timeout:, cancel:) { |r| Registration.new(r.json) }
    end

    # RFC 7592 client configuration: read, update (with the full `metadata`) or delete the
    # registration `reg` (an Oidc::Registration, or give registration_client_uri: and
    # registration_access_token:). read and update return an Oidc::Registration, delete nil.
    def registration_read(reg = nil, **kw)
      perform(:registration_read, **registration_args(reg, kw)) { |r| Registration.new(r.json) }
    end

    def registration_update(reg = nil, metadata:, **kw)
      perform(:registration_update, metadata:, **registration_args(reg, kw)) { |r| Registration.new(r.json) }
    end

    def registration_delete(reg = nil, **kw)
      perform(:registration_delete, **registration_args(reg, kw)) { nil }
    end

    private

    def registration_args(reg, kw)
      if reg
        raise TypeError, "expected an Oidc::Registration" unless reg.is_a?(Registration)

        kw = { registration_client_uri: reg.registration_client_uri,
               registration_access_token: reg.registration_access_token }.merge(kw)
      end
      kw
    end
  end
end
