# frozen_string_literal: true

module Oidc
  # Drives one native builder (oidc_validator_builder / oidc_oauth_builder) during construction.
  # The builder is consumed by #build in every case; #abandon frees it when a setter failed.
  class NativeBuilder
    # The raw builder pointer (borrowed; nil once built or abandoned), for calls that take a
    # builder without consuming it (oidc_oauth_register).
    attr_reader :ptr

    def initialize(prefix)
      @prefix = prefix
      out = FFI::MemoryPointer.new(:pointer)
      FFISupport.check { |e| Native.public_send(:"#{prefix}_new", out, e) }
      @ptr = out.read_pointer
    end

    # setter taking one string (ptr, len)
    def str(setter, value)
      s = FFISupport.bytes(value)
      FFISupport.check { |e| Native.public_send(:"#{@prefix}_#{setter}", @ptr, s, s.bytesize, e) }
    end

    # setter taking scalars
    def call(setter, *args)
      FFISupport.check { |e| Native.public_send(:"#{@prefix}_#{setter}", @ptr, *args, e) }
    end

    # setter taking two strings
    def str2(setter, a, b)
      a = FFISupport.bytes(a)
      b = FFISupport.bytes(b)
      FFISupport.check { |e| Native.public_send(:"#{@prefix}_#{setter}", @ptr, a, a.bytesize, b, b.bytesize, e) }
    end

    # Build (consumes the builder whatever happens) and return the raw handle pointer.
    def build
      out = FFI::MemoryPointer.new(:pointer)
      ptr = @ptr
      @ptr = nil
      FFISupport.check { |e| Native.public_send(:"#{@prefix}_build", ptr, out, e) }
      out.read_pointer
    end

    def abandon
      Native.public_send(:"#{@prefix}_free", @ptr) if @ptr
      @ptr = nil
    end

    # Yield the builder; free it if the block raises before #build consumed it.
    def self.open(prefix)
      b = new(prefix)
      begin
        yield b
      ensure
        b.abandon
      end
    end

    def self.ms(seconds, what)
      v = (Float(seconds) * 1000).round
      raise ArgumentError, "#{what} must be positive and at most #{0xffffffff / 1000} s" unless v.positive? && v <= 0xffffffff

      v
    end
  end
end
