# frozen_string_literal: true

module Oidc
  # An introspection response (RFC 7662): Hash-like like Oidc::Claims (subject, scopes,
  # client_id, expires_at, ...) plus #active?.
  class Introspection < Claims
    def active?
      self["active"] == true
    end

    def inspect
      "#<Oidc::Introspection #{to_h.inspect}>"
    end
    alias to_s inspect
  end

  class OAuthClient
    INTROSPECT_FLAG_SIGNED = 1 # OIDC_INTROSPECT_FLAG_SIGNED

    # Introspect a token at the issuer's introspection endpoint with this client's
    # authentication. `signed: true` asks for an RFC 9701 JWT response (validated by liboidc)
    # and accepts nothing else. An inactive token is a result (#active? false), not an error.
    def introspect(token, token_type_hint: nil, signed: false)
      need(:oidc_oauth_introspect)
      t = FFISupport.bytes(token)
      h, h_len = opt_arg(token_type_hint)
      flags = signed ? INTROSPECT_FLAG_SIGNED : 0
      json = string_call do |ptr, out, len, err|
        Native.oidc_oauth_introspect(ptr, t, t.bytesize, h, h_len, flags, out, len, err)
      end
      Introspection.from_json(json)
    end
  end

  module Native
    attach_optional :oidc_oauth_introspect,
                    %i[pointer pointer size_t pointer size_t uint32 pointer pointer pointer], :uint32, blocking: true
  end
end
