# frozen_string_literal: true

module Oidc
  # A cancel handle (oidc_cancel), optionally with a deadline: pass it as `cancel:` to any
  # protocol call (OAuthRequest#send, OAuthClient#poll_device, ...). Triggering it from another
  # thread ends the calls using it with Oidc::Cancelled: a poll's wait at once, a request in
  # flight when it returns (its result is dropped); past the deadline they end with
  # Oidc::DeadlineExceeded. Once triggered it stays so. Thread safe.
  #
  #   cancel = Oidc::Cancel.new(timeout: 300)   # timeout: optional, seconds from now
  #   poller = Thread.new { oauth.poll_device(auth, cancel: cancel) }
  #   cancel.cancel   # e.g. when the user gives up
  class Cancel
    # timeout: seconds from now after which calls using the handle end (nil: no deadline).
    def initialize(timeout: nil)
      ms = 0
      if timeout
        ms = (Float(timeout) * 1000).ceil
        raise ArgumentError, "timeout must be > 0 and at most #{0xffffffff / 1000} s" unless ms.positive? && ms <= 0xffffffff
      end
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_cancel_new(ms, out, e) }
      @handle = Handle.new(out.read_pointer, :oidc_cancel_free, "Oidc::Cancel")
      @cancelled = false
    end

    # Cancel every call using this object (now and later). Never blocks.
    def cancel
      @handle.use { |ptr| Native.oidc_cancel_trigger(ptr) }
      @cancelled = true
      nil
    end
    alias trigger cancel

    # True once #cancel was called.
    def cancelled?
      return @cancelled if @cancelled || closed?

      @handle.use { |ptr| Native.oidc_cancel_is_cancelled(ptr) == 1 }
    rescue ClosedError
      @cancelled
    end

    # Free the native handle (after the calls using it return). Optional: the GC frees it too.
    def close
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    # For the binding: yields the native pointer while a call uses it.
    def use(&block)
      @handle.use(&block)
    end

    def inspect
      "#<Oidc::Cancel#{' cancelled' if @cancelled}#{' closed' if closed?}>"
    end
    alias to_s inspect
  end
end
