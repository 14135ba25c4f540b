# frozen_string_literal: true

require "json"

module Oidc
  # A token-endpoint response. #inspect and #to_s never show the tokens; #raw (the whole
  # response) does contain them: never log it.
  class Token
    attr_reader :access_token, :token_type, :expires_in, :refresh_token, :id_token, :scope,
                :issued_token_type, :received_at

    STRING_FIELDS = Protocol::FIELDS.values_at(:access_token, :token_type, :refresh_token, :id_token, :scope,
                                               :issued_token_type).freeze
    EXPIRES_IN = Protocol::FIELDS.fetch(:expires_in)
    private_constant :STRING_FIELDS, :EXPIRES_IN

    # Copy every field out of a token Oidc::OAuthResponse (not closed here).
    def self.from_response(resp)
      resp.use do |rp|
        at, tt, rt, it, sc, itt = STRING_FIELDS.map { |id| Oidc.cstr_or_nil(Native.oidc_oauth_response_string(rp, id)) }
        exp = Native.oidc_oauth_response_int(rp, EXPIRES_IN)
        new(access_token: at, token_type: tt, expires_in: exp == -1 ? nil : exp, refresh_token: rt, id_token: it,
            scope: sc, issued_token_type: itt, raw_json: OAuthResponse.json_of(rp))
      end
    end

    def initialize(access_token:, token_type:, expires_in: nil, refresh_token: nil, id_token: nil, scope: nil,
                   issued_token_type: nil, raw_json: nil, received_at: Time.now)
      @access_token = access_token
      @token_type = token_type
      @expires_in = expires_in
      @refresh_token = refresh_token
      @id_token = id_token
      @scope = scope
      @issued_token_type = issued_token_type
      @raw_json = raw_json
      @received_at = received_at
      freeze
    end

    # The whole response as a Hash (contains secrets: never log it).
    def raw
      @raw_json ? JSON.parse(@raw_json) : {}
    end

    # A member of the response (e.g. a custom grant's extra members); nil when absent.
    def [](key)
      raw[key.to_s]
    end

    # Granted scopes as an Array (empty when the server did not say).
    def scopes
      @scope ? @scope.split(" ") : []
    end

    # When the access token expires (nil when the server sent no expires_in).
    def expires_at
      @expires_in && (@received_at + @expires_in)
    end

    # True when the access token has expired (or will within `leeway` seconds).
    def expired?(leeway: 0)
      t = expires_at
      t ? Time.now + leeway >= t : false
    end

    def inspect
      parts = ["token_type=#{@token_type.inspect}", "expires_in=#{@expires_in.inspect}", "scope=#{@scope.inspect}"]
      parts << "access_token=[FILTERED]" if @access_token
      parts << "refresh_token=[FILTERED]" if @refresh_token
      parts << "id_token=[FILTERED]" if @id_token
      "#<Oidc::Token #{parts.join(' ')}>"
    end
    alias to_s inspect

    # Keep secrets out of pp / YAML-ish dumps that walk instance variables.
    def pretty_print(q)
      q.text(inspect)
    end
  end
end
