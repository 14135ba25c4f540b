# frozen_string_literal: true

require "json"

module Oidc
  # The result of OAuthClient#authorization_url: where to send the user, and the state and
  # nonce to check when they come back.
  class AuthorizationRequest
    attr_reader :url, :state, :nonce

    def initialize(h)
      @url = h.fetch("url").freeze
      @state = h["state"]&.freeze
      @nonce = h["nonce"]&.freeze
      freeze
    end

    alias to_s url

    def inspect
      "#<Oidc::AuthorizationRequest url=#{@url.inspect} state=#{@state.inspect}>"
    end
  end

  # The result of OAuthClient#push_authorization_request (RFC 9126).
  class PushedAuthorizationRequest
    attr_reader :request_uri, :expires_in, :state, :nonce

    def initialize(h)
      @request_uri = h.fetch("request_uri").freeze
      @expires_in = h["expires_in"]
      @state = h["state"]&.freeze
      @nonce = h["nonce"]&.freeze
      freeze
    end

    def inspect
      "#<Oidc::PushedAuthorizationRequest request_uri=#{@request_uri.inspect} expires_in=#{@expires_in.inspect}>"
    end
    alias to_s inspect
  end

  # A checked authorization response (OAuthClient#parse_authorization_response). The code is
  # a secret: #inspect does not show it.
  class AuthorizationResponse
    attr_reader :code, :state, :iss, :params

    def initialize(h)
      @code = h["code"]&.freeze
      @state = h["state"]&.freeze
      @iss = h["iss"]&.freeze
      @jarm = h["jarm"] == true
      @params = (h["params"] || {}).freeze
      freeze
    end

    # True when the response came as a JARM `response` JWT (validated by liboidc).
    def jarm? = @jarm

    def inspect
      "#<Oidc::AuthorizationResponse code=#{@code ? '[FILTERED]' : 'nil'} state=#{@state.inspect} " \
        "iss=#{@iss.inspect} jarm=#{@jarm}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  class OAuthClient
    # Build the authorization URL (authorization code flow). state and nonce are generated
    # when not given. `params` adds further parameters (prompt:, resource:, ... Strings or
    # Arrays). `request` is an already signed request object (RFC 9101); `request_uri` one from
    # #push_authorization_request. `pkce:` (an Oidc::Pkce) supplies code_challenge, state and
    # nonce unless they are given. Returns an Oidc::AuthorizationRequest (#url, #state, #nonce).
    # Blocks only for discovery on first use.
    def authorization_url(redirect_uri: nil, scope: nil, state: nil, nonce: nil, code_challenge: nil,
                          response_type: nil, response_mode: nil, max_age: nil, params: nil, request: nil,
                          request_uri: nil, pkce: nil)
      need(:oidc_oauth_authorization_url)
      state, nonce, code_challenge = from_pkce(pkce, state, nonce, code_challenge)
      req = authorization_request_json(redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:,
                                       response_mode:, max_age:, params:, request:, request_uri:)
      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_authorization_url(ptr, req, req.bytesize, out, len, err)
      end
      AuthorizationRequest.new(JSON.parse(json))
    end

    # Push the authorization request (RFC 9126, PAR) with this client's authentication; then
    # send the user to authorization_url(request_uri: par.request_uri). Same options as
    # #authorization_url (without request_uri). Blocks for one request.
    def push_authorization_request(redirect_uri: nil, scope: nil, state: nil, nonce: nil, code_challenge: nil,
                                   response_type: nil, response_mode: nil, max_age: nil, params: nil, request: nil,
                                   pkce: nil)
      need(:oidc_oauth_push_authorization_request)
      state, nonce, code_challenge = from_pkce(pkce, state, nonce, code_challenge)
      req = authorization_request_json(redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:,
                                       response_mode:, max_age:, params:, request:, request_uri: nil)
      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_push_authorization_request(ptr, req, req.bytesize, out, len, err)
      end
      PushedAuthorizationRequest.new(JSON.parse(json))
    end

    # Check the response that reached the redirect URI (the full URL, or its query/fragment):
    # state (Oidc::StateMismatch), RFC 9207 iss (Oidc::ResponseIssuerMismatch), a JARM
    # response, and error responses (Oidc::AccessDenied, ...). Returns an
    # Oidc::AuthorizationResponse.
    def parse_authorization_response(response, expected_state: nil)
      need(:oidc_oauth_parse_authorization_response)
      r = FFISupport.bytes(response)
      st, st_len = opt_arg(expected_state)
      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_parse_authorization_response(ptr, r, r.bytesize, st, st_len, out, len, err)
      end
      AuthorizationResponse.new(JSON.parse(json))
    end

    # The RP-initiated logout URL (OpenID Connect RP-Initiated Logout) with the optional hints.
    def end_session_url(id_token_hint: nil, post_logout_redirect_uri: nil, state: nil)
      need(:oidc_oauth_end_session_url)
      h, h_len = opt_arg(id_token_hint)
      p, p_len = opt_arg(post_logout_redirect_uri)
      s, s_len = opt_arg(state)
      string_call do |ptr, out, len, err|
        Native.oidc_oauth_end_session_url(ptr, h, h_len, p, p_len, s, s_len, out, len, err)
      end
    end

    private

    def from_pkce(pkce, state, nonce, code_challenge)
      return [state, nonce, code_challenge] unless pkce

      [state || pkce.state, nonce || pkce.nonce, code_challenge || pkce.code_challenge]
    end

    def authorization_request_json(redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:,
                                   response_mode:, max_age:, params:, request:, request_uri:)
      scope = scope.join(" ") if scope.is_a?(Array)
      h = { redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:, response_mode:,
            max_age: max_age && Integer(max_age), request:, request_uri: }.compact
      h[:params] = params.to_h { |k, v| [k.to_s, v.is_a?(Array) ? v.map(&:to_s) : v.to_s] } if params
      FFISupport.bytes(JSON.generate(h))
    end
  end

  module Native
    %i[oidc_oauth_authorization_url oidc_oauth_push_authorization_request].each do |f|
      attach_optional f, %i[pointer pointer size_t pointer pointer pointer], :uint32, blocking: true
    end
    attach_optional :oidc_oauth_parse_authorization_response,
                    %i[pointer pointer size_t pointer size_t pointer pointer pointer], :uint32, blocking: true
    attach_optional :oidc_oauth_end_session_url,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer pointer pointer], :uint32,
                    blocking: true
  end
end
