# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Validate an ID token (OpenID Connect Core §3.1.3.7) with the same policy code as access
    # tokens (keys, iss, aud = client id, exp/nbf/iat), then sub, iat, azp, and, when given,
    # nonce (Oidc::NonceMismatch), at_hash for `access_token` / c_hash for `code`
    # (Oidc::HashMismatch) and auth_time against `max_age` seconds (Oidc::AuthTimeInvalid).
    # Returns Oidc::Claims. Blocks only when keys are not cached.
    def validate_id_token(id_token, nonce: nil, access_token: nil, code: nil, max_age: nil)
      need(:oidc_oauth_validate_id_token)
      t = FFISupport.bytes(id_token)
      n, n_len = opt_arg(nonce)
      a, a_len = opt_arg(access_token)
      c, c_len = opt_arg(code)
      age = max_age.nil? ? -1 : Integer(max_age)
      raise ArgumentError, "max_age must be >= 0" if age.negative? && !max_age.nil?

      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_validate_id_token(ptr, t, t.bytesize, n, n_len, a, a_len, c, c_len, age, out, len, err)
      end
      Claims.from_json(json)
    end
  end

  module Native
    attach_optional :oidc_oauth_validate_id_token,
                    %i[pointer pointer size_t pointer size_t pointer size_t pointer size_t int64 pointer pointer pointer],
                    :uint32, blocking: true
  end
end
