# frozen_string_literal: true

module Oidc
  # Mirrors of include/oidc.h's protocol enums, as Symbols: oidc_operation (OIDC_OP_REFRESH ->
  # :refresh), oidc_param (OIDC_PARAM_SCOPE -> :scope) and oidc_field (OIDC_FIELD_ACCESS_TOKEN ->
  # :access_token). test/protocol_test.rb compares them with the header in both directions.
  #
  # Which parameter applies to which operation, which are required and what their values may be
  # is liboidc's business: a request refuses a wrong one with Oidc::InvalidArgument naming the
  # parameter and the operation.
  module Protocol
    OPERATIONS = {
      authorization_code: 1, refresh: 2, client_credentials: 3, token_exchange: 4, jwt_bearer: 5,
      custom_grant: 6, device_authorization: 7, device_poll: 8, ciba_request: 9, ciba_poll: 10,
      introspect: 11, revoke: 12, userinfo: 13, pushed_authorization: 14, authorization_url: 15,
      end_session_url: 16, authorization_response: 17, validate_id_token: 18, register: 19,
      registration_read: 20, registration_update: 21, registration_delete: 22, resource: 23, endpoint: 24,
      validate_logout_token: 25, verify_jws: 26, decrypt: 27
    }.freeze

    PARAMS = {
      # strings (oidc_oauth_request_set_string; setting again replaces)
      code: 1, redirect_uri: 2, code_verifier: 3, nonce: 4, refresh_token: 5, subject_token: 6,
      subject_token_type: 7, actor_token: 8, actor_token_type: 9, requested_token_type: 10, assertion: 11,
      subject: 12, grant_type: 13, token: 14, token_type_hint: 15, access_token: 16, token_type: 17,
      expected_sub: 18, device_code: 19, auth_req_id: 20, metadata: 21, initial_access_token: 22,
      registration_access_token: 23, registration_client_uri: 24, method: 25, url: 26, body: 27,
      content_type: 28, response: 29, expected_state: 30, id_token: 31, id_token_hint: 32,
      post_logout_redirect_uri: 33, state: 34, response_type: 35, response_mode: 36, code_challenge: 37,
      request_object: 38, request_uri: 39, login_hint: 40, binding_message: 41, endpoint_name: 42,
      logout_token: 43, jws: 44, payload: 45, jwe: 46,
      # lists (oidc_oauth_request_add_string, one item per call, in order)
      scope: 100, resource: 101, audience: 102,
      # integers (oidc_oauth_request_set_int)
      max_age: 200, deadline_ms: 201, interval_secs: 202, expires_in_secs: 203, signed_response: 204,
      use_cache: 205, no_state_sent: 206, now_secs: 207
    }.freeze

    FIELDS = {
      # strings (oidc_oauth_response_string)
      access_token: 1, token_type: 2, refresh_token: 3, id_token: 4, scope: 5, issued_token_type: 6,
      device_code: 7, user_code: 8, verification_uri: 9, verification_uri_complete: 10, auth_req_id: 11,
      request_uri: 12, url: 13, code: 14, state: 15, nonce: 16, code_verifier: 17, code_challenge: 18,
      iss: 19, sub: 20, client_id: 21, client_secret: 22, registration_access_token: 23,
      registration_client_uri: 24, error: 25, error_description: 26, error_uri: 27, content_type: 28,
      www_authenticate: 29, sid: 30, jti: 31, payload: 32, protected_header: 33,
      # integers (oidc_oauth_response_int)
      expires_in: 100, interval: 101, http_status: 102, active: 103
    }.freeze

    # The header's numbering: strings below 100, lists 100-199, integers from 200 (fields:
    # strings below 100, integers from 100).
    def self.param_kind(value)
      if value < 100 then :string
      elsif value < 200 then :list
      else :int
      end
    end

    def self.field_kind(value)
      value < 100 ? :string : :int
    end

    OPERATION_NAMES = OPERATIONS.invert.freeze

    # The number of an operation (Symbol, String or Integer as in the header).
    def self.operation(op)
      lookup(OPERATIONS, op, "operation")
    end

    def self.param(name)
      lookup(PARAMS, name, "parameter")
    end

    def self.field(name)
      lookup(FIELDS, name, "field")
    end

    def self.lookup(table, key, what)
      return key if key.is_a?(Integer)

      table[key] || table.fetch(key.to_s.downcase.to_sym) do
        raise ArgumentError, "unknown #{what} #{key.inspect} (one of #{table.keys.join(', ')})"
      end
    end
    private_class_method :lookup
  end
end
