# frozen_string_literal: true

module Oidc
  # Owns one native handle for a Ruby object.
  #
  # * The pointer sits in an FFI::AutoPointer, so a client that is never closed is freed by
  #   the garbage collector (the releaser holds no reference back to the Ruby object).
  # * #close frees it at once; closing twice is harmless.
  # * Calls run through #use, which counts them: because blocking calls release the GVL,
  #   another thread may call #close while liboidc is still working on the handle. #close then
  #   marks the handle closed (new calls raise ClosedError) and waits for running calls to
  #   return before freeing, so the C rule "free only when no call is running" always holds.
  class Handle
    @freed = 0
    @freed_by = Hash.new(0)
    @releasers = {}

    class << self
      # How many native handles have been freed so far (by #close or by the GC).
      attr_reader :freed

      # How many handles were freed through `free_fn` (e.g. :oidc_oauth_response_free),
      # by handles and by the binding's own ensure blocks (.count_free).
      def freed_by(free_fn)
        @freed_by[free_fn]
      end

      # Count a free the binding made itself (a pointer it never wrapped in a Handle).
      def count_free(free_fn)
        @freed += 1
        @freed_by[free_fn] += 1
      end

      # A releaser for AutoPointer that frees through `free_fn` (a Native function name) and
      # counts. It is shared per function and holds no reference to any Ruby wrapper object,
      # so wrappers stay collectable.
      def releaser(free_fn)
        @releasers[free_fn] ||= lambda do |ptr|
          Native.public_send(free_fn, ptr)
          @freed += 1
          @freed_by[free_fn] += 1
        end
      end
    end

    # raw: the handle pointer; free_fn: e.g. :oidc_validator_free; what: name for messages.
    def initialize(raw, free_fn, what)
      raise ArgumentError, "NULL #{what}" if raw.null?

      @ptr = FFI::AutoPointer.new(raw, Handle.releaser(free_fn))
      @what = what
      @lock = Mutex.new
      @idle = ConditionVariable.new
      @busy = 0
      @closed = false
    end

    def use
      @lock.synchronize do
        raise ClosedError, "#{@what} is closed" if @closed

        @busy += 1
      end
      begin
        yield @ptr
      ensure
        @lock.synchronize do
          @busy -= 1
          @idle.broadcast if @busy.zero?
        end
      end
    end

    # Like #use, but alone: waits until no other call uses the handle, and holds new ones off
    # while the block runs (for calls that change the object, e.g. a request's setters while
    # sends read it with the GVL released). The block must not block.
    def exclusive
      @lock.synchronize do
        raise ClosedError, "#{@what} is closed" if @closed

        @idle.wait(@lock) while @busy.positive?
        yield @ptr
      end
    end

    # Free the handle (after running calls return). Returns true the first time, false after.
    def close
      @lock.synchronize do
        return false if @closed

        @closed = true
        @idle.wait(@lock) while @busy.positive?
      end
      @ptr.free
      true
    end

    # Give the handle away to a C call that consumes it (e.g. oidc_validator_builder_add_issuer):
    # like #close (running calls finish first, later calls raise ClosedError), but the pointer
    # is returned instead of freed; the caller now owns it. Raises ClosedError when closed.
    def take
      @lock.synchronize do
        raise ClosedError, "#{@what} is closed" if @closed

        @closed = true
        @idle.wait(@lock) while @busy.positive?
      end
      @ptr.autorelease = false
      FFI::Pointer.new(@ptr.address)
    end

    def closed?
      @closed
    end
  end
end
