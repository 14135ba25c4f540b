# frozen_string_literal: true

module Oidc
  # Base of a pending authorization polled at the token endpoint (device, CIBA): keeps the
  # Oidc::OAuthResponse that started it (the poll request takes code, interval and expiry from
  # it: OAuthRequest#pending=). #close frees it (after running polls took what they need), the
  # GC otherwise.
  class PendingAuthorization
    attr_reader :expires_in, :interval, :received_at, :response

    def initialize(response)
      @response = response
      @expires_in = response[:expires_in]
      @interval = response[:interval]
      @received_at = Time.now
    end

    # When the codes expire (nil when unknown).
    def expires_at
      return nil if @expires_in.nil? || @expires_in.negative?

      @received_at + @expires_in
    end

    def expired?
      t = expires_at
      t ? Time.now >= t : false
    end

    def close
      @response.close
      nil
    end

    def closed?
      @response.closed?
    end

    # For the binding: yields the native response while a request copies it.
    def use(&block)
      @response.use(&block)
    end

    def pretty_print(q)
      q.text(inspect)
    end
  end
end
