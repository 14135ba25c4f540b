# frozen_string_literal: true

module Oidc
  class OAuthClient
    # Validate a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6), the
    # `logout_token` form parameter the OP posted: the issuer's keys and this client's
    # algorithm rules, iss, aud = client id, iat/exp, typ logout+jwt (see
    # logout_accept_untyped:), the back-channel-logout event, sub and/or sid, no nonce, and a
    # jti seen once (Oidc::TokenReplayed; the client's cache, then logout_replay_store:).
    # `now`: validate as of this Time / Unix second (tests, recorded traffic). Returns an
    # Oidc::LogoutToken. Blocks only when keys are not cached.
    def validate_logout_token(logout_token, now: nil, timeout: nil, cancel: nil)
      perform(:validate_logout_token, logout_token:, now_secs: now&.to_i, timeout:, cancel:) do |r|
        iss, sub, sid, jti = r.strings(:iss, :sub, :sid, :jti)
        LogoutToken.new(claims: Claims.from_json(r.json), iss:, sub:, sid:, jti:)
      end
    end

    # Verify a JWS that is not a token (RFC 7515; compact or flattened JSON): detached content
    # (Appendix F: pass the content as `detached_payload`) and unencoded payloads (RFC 7797,
    # b64 false) included, with the issuer's keys and this client's algorithm rules.
    # `now`: as of this Time / Unix second. Returns an Oidc::JosePayload (#payload bytes, #text,
    # #header). Blocks only when keys are not cached.
    def verify_jws(jws, detached_payload: nil, now: nil, timeout: nil, cancel: nil)
      perform(:verify_jws, jws:, payload: detached_payload, now_secs: now&.to_i, timeout:, cancel:) do |r|
        JosePayload.from_response(r)
      end
    end

    # Decrypt a compact JWE with this client's decryption_keys: (RFC 7516/7518). Decrypts only:
    # a nested JWT inside is not validated (validate it with the call it is for). Every
    # key-unwrap or decryption failure is one Oidc::DecryptionFailed with one message. Returns an
    # Oidc::JosePayload (#header: the JWE protected header).
    def decrypt(jwe, timeout: nil, cancel: nil)
      perform(:decrypt, jwe:, timeout:, cancel:) { |r| JosePayload.from_response(r) }
    end
  end
end
