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
    # Introspect a token at the issuer's introspection endpoint with this client's
    # authentication. `signed: true` asks for an RFC 9701 JWT response (validated by liboidc)
    # and accepts nothing else. An inactive token is a result (#active? false), not an error.
    def introspect(token, token_type_hint: nil, signed: false, params: nil, timeout: nil, cancel: nil)
      perform(:introspect, token:, token_type_hint:, signed_response: signed ? 1 : nil, params:, timeout:,
                           cancel:) do |r|
        Introspection.from_json(r.json)
      end
    end
  end
end
