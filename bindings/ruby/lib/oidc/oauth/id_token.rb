# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Validate an ID token (OpenID Connect Core §3.1.3.7) with the same policy code as access
    # tokens (keys, iss, aud = client id, exp/nbf/iat), then sub, iat, azp, and, when given,
    # nonce (Oidc::NonceMismatch), at_hash for `access_token` / c_hash for `code`
    # (Oidc::HashMismatch) and auth_time against `max_age` seconds (Oidc::AuthTimeInvalid).
    # `now`: validate as of this Time / Unix second (tests, recorded traffic). An encrypted ID
    # token is decrypted with the client's decryption_keys: first.
    # Returns Oidc::Claims. Blocks only when keys are not cached.
    def validate_id_token(id_token, nonce: nil, access_token: nil, code: nil, max_age: nil, now: nil)
      perform(:validate_id_token, id_token:, nonce:, access_token:, code:, max_age:, now_secs: now&.to_i) do |r|
        Claims.from_json(r.json)
      end
    end
  end
end
