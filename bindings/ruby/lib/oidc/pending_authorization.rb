# frozen_string_literal: true

module Oidc
  # Base of a pending authorization polled at the token endpoint (device, CIBA): owns the
  # native handle (freed by #close or the GC; #close waits for running polls).
  class PendingAuthorization
    attr_reader :expires_in, :interval, :received_at

    def initialize(raw, free_fn, what)
      @handle = Handle.new(raw, free_fn, what)
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
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    # For the binding: yields the native pointer while a poll uses it.
    def use(&block)
      @handle.use(&block)
    end

    def pretty_print(q)
      q.text(inspect)
    end
  end
end
