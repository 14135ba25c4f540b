# frozen_string_literal: true

require "json"

module Oidc
  # The result of OAuthClient#authorization_url: where to send the user, and what to keep for
  # the way back (state, nonce) and for the code exchange (code_verifier, a secret: #inspect
  # does not show it). Pass it as `pkce:` to OAuthClient#exchange_code.
  class AuthorizationRequest
    attr_reader :url, :state, :nonce, :code_verifier, :code_challenge, :code_challenge_method

    def initialize(h)
      @url = h.fetch("url").freeze
      @state = h["state"]&.freeze
      @nonce = h["nonce"]&.freeze
      @code_verifier = h["code_verifier"]&.freeze
      @code_challenge = h["code_challenge"]&.freeze
      @code_challenge_method = h["code_challenge_method"]&.freeze
      freeze
    end

    alias to_s url

    def inspect
      "#<Oidc::AuthorizationRequest url=#{@url.inspect} state=#{@state.inspect}" \
        "#{' code_verifier=[FILTERED]' if @code_verifier}>"
    end

    def pretty_print(q)
      q.text(inspect)
    end
  end

  # The result of OAuthClient#push_authorization_request (RFC 9126): the request_uri for
  # OAuthClient#authorization_url(request_uri:), plus state, nonce and code_verifier as for
  # Oidc::AuthorizationRequest.
  class PushedAuthorizationRequest
    attr_reader :request_uri, :expires_in, :state, :nonce, :code_verifier, :code_challenge

    def initialize(request_uri:, expires_in: nil, state: nil, nonce: nil, code_verifier: nil, code_challenge: nil)
      @request_uri = request_uri.freeze
      @expires_in = expires_in
      @state = state&.freeze
      @nonce = nonce&.freeze
      @code_verifier = code_verifier&.freeze
      @code_challenge = code_challenge&.freeze
      freeze
    end

    def inspect
      "#<Oidc::PushedAuthorizationRequest request_uri=#{@request_uri.inspect} expires_in=#{@expires_in.inspect}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end

  # A checked authorization response (OAuthClient#parse_authorization_response). The code is
  # a secret: #inspect does not show it. #params: the response's other parameters.
  class AuthorizationResponse
    attr_reader :code, :state, :iss, :params

    def initialize(h)
      h = h.dup
      @code = h.delete("code")&.freeze
      @state = h.delete("state")&.freeze
      @iss = h.delete("iss")&.freeze
      @jarm = h.delete("jarm") == true
      nested = h.delete("params")
      @params = (nested.is_a?(Hash) ? nested.merge(h) : h).freeze
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
    # Build the authorization URL (authorization code flow). liboidc generates state, nonce and
    # the PKCE pair when they are not given. `scope` items, `resources` (RFC 8707), `params`
    # further parameters (prompt:, ...; an Array repeats one). `request_object` is an already
    # signed request object (RFC 9101); `request_uri` one from #push_authorization_request.
    # Returns an Oidc::AuthorizationRequest (#url, #state, #nonce, #code_verifier). Blocks only
    # for discovery on first use.
    def authorization_url(redirect_uri: nil, scope: nil, state: nil, nonce: nil, code_challenge: nil,
                          response_type: nil, response_mode: nil, max_age: nil, params: nil, request_object: nil,
                          request_uri: nil, resources: nil, login_hint: nil, timeout: nil, cancel: nil)
      perform(:authorization_url, redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:,
                                  response_mode:, max_age:, request_object:, request_uri:, resource: resources,
                                  login_hint:, params:, timeout:, cancel:) do |r|
        AuthorizationRequest.new(r.to_h)
      end
    end

    # Push the authorization request (RFC 9126, PAR) with this client's authentication; then
    # send the user to authorization_url(request_uri: par.request_uri). Same options as
    # #authorization_url (without request_uri). Blocks for one request.
    def push_authorization_request(redirect_uri: nil, scope: nil, state: nil, nonce: nil, code_challenge: nil,
                                   response_type: nil, response_mode: nil, max_age: nil, params: nil,
                                   request_object: nil, resources: nil, login_hint: nil, timeout: nil, cancel: nil)
      perform(:pushed_authorization, redirect_uri:, scope:, state:, nonce:, code_challenge:, response_type:,
                                     response_mode:, max_age:, request_object:, resource: resources, login_hint:,
                                     params:, timeout:, cancel:) do |r|
        PushedAuthorizationRequest.new(request_uri: r[:request_uri], expires_in: r[:expires_in], state: r[:state],
                                       nonce: r[:nonce], code_verifier: r[:code_verifier],
                                       code_challenge: r[:code_challenge])
      end
    end

    # Check the response that reached the redirect URI (the full URL, its query, or a form
    # body): state (Oidc::StateMismatch; `no_state_sent: true` when the request carried none),
    # RFC 9207 iss (Oidc::ResponseIssuerMismatch), a JARM response, and error responses
    # (Oidc::AccessDenied, ...). `now`: check a JARM response as of this Time / Unix second.
    # Returns an Oidc::AuthorizationResponse.
    def parse_authorization_response(response, expected_state: nil, no_state_sent: false, now: nil)
      perform(:authorization_response, response: response, expected_state: expected_state,
                                       no_state_sent: no_state_sent ? 1 : nil, now_secs: now&.to_i) do |r|
        AuthorizationResponse.new(r.to_h)
      end
    end

    # The RP-initiated logout URL (OpenID Connect RP-Initiated Logout) with the optional hints.
    def end_session_url(id_token_hint: nil, post_logout_redirect_uri: nil, state: nil, params: nil)
      perform(:end_session_url, id_token_hint:, post_logout_redirect_uri:, state:, params:) { |r| r[:url] }
    end
  end
end
