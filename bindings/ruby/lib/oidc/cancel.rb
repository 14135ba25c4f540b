# frozen_string_literal: true

module Oidc
  # Ends the waits of device and CIBA polls (OAuthClient#poll_device, #poll_ciba) from another
  # thread: they raise Oidc::Cancelled (a poll request already in flight finishes first).
  # Once cancelled it stays so. Thread safe.
  #
  #   cancel = Oidc::Cancel.new
  #   poller = Thread.new { oauth.poll_device(auth, timeout: 300, cancel: cancel) }
  #   cancel.cancel   # e.g. when the user gives up
  class Cancel
    def initialize
      Client.need_native(:oidc_cancel_new)
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.oidc_cancel_new(out, e) }
      @handle = Handle.new(out.read_pointer, :oidc_cancel_free, "Oidc::Cancel")
      @cancelled = false
    end

    # Cancel every poll using this object (now and later). Never blocks.
    def cancel
      @handle.use { |ptr| Native.oidc_cancel_cancel(ptr) }
      @cancelled = true
      nil
    end

    # True once #cancel was called.
    def cancelled?
      return @cancelled if @cancelled || closed? || !Native.available?(:oidc_cancel_is_cancelled)

      @handle.use { |ptr| Native.oidc_cancel_is_cancelled(ptr) == 1 }
    rescue ClosedError
      @cancelled
    end

    # Free the native handle (after the polls using it return). Optional: the GC frees it too.
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

    def inspect
      "#<Oidc::Cancel#{' cancelled' if @cancelled}#{' closed' if closed?}>"
    end
    alias to_s inspect
  end

  module Native
    attach_optional :oidc_cancel_new, %i[pointer pointer], :uint32
    attach_optional :oidc_cancel_cancel, [:pointer], :void
    attach_optional :oidc_cancel_free, [:pointer], :void
    attach_optional :oidc_cancel_is_cancelled, [:pointer], :uint32
  end
end
