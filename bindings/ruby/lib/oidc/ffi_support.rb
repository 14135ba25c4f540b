# frozen_string_literal: true

module Oidc
  # Translation helpers shared by every wrapper (no OIDC logic here).
  module FFISupport
    module_function

    # A stable UTF-8 byte view of `s` to hand to a call that may release the GVL: a frozen
    # string, so another thread cannot resize the buffer under liboidc. Strings in another
    # encoding are transcoded; binary strings pass as they are (liboidc checks UTF-8 itself and
    # answers INVALID_UTF8).
    def bytes(value)
      s = String.try_convert(value)
      raise TypeError, "expected a String, got #{value.class}" unless s

      enc = s.encoding
      if enc != Encoding::UTF_8 && enc != Encoding::BINARY && enc != Encoding::US_ASCII && !s.ascii_only?
        s = s.encode(Encoding::UTF_8)
      end
      s.frozen? ? s : s.dup.freeze
    end

    # The same UTF-8 view for a call that keeps the GVL (a setter that copies at once): no
    # defensive copy, as no other Ruby thread can run during the call.
    def arg(value)
      s = String.try_convert(value)
      raise TypeError, "expected a String, got #{value.class}" unless s

      enc = s.encoding
      return s if enc == Encoding::UTF_8 || enc == Encoding::BINARY || enc == Encoding::US_ASCII || s.ascii_only?

      s.encode(Encoding::UTF_8)
    end

    # Call a fallible C function whose last argument is oidc_error **; raise on failure.
    # Yields the err_out pointer; the block returns the oidc_result.
    def check
      err = FFI::MemoryPointer.new(:pointer)
      rc = yield err
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      rc
    end

    # Copy an owned NUL-terminated liboidc string (no length given) and free it.
    def take_cstring(ptr)
      return nil if ptr.null?

      begin
        ptr.read_string.force_encoding(Encoding::UTF_8)
      ensure
        Native.oidc_string_free(ptr)
      end
    end

    # Copy `len` bytes of an owned liboidc string and free it.
    def take_string(ptr, len)
      return nil if ptr.null?

      begin
        ptr.read_string(len).force_encoding(Encoding::UTF_8)
      ensure
        Native.oidc_string_free(ptr)
      end
    end
  end

  # A borrowed NUL-terminated C string as UTF-8 ("" for NULL).
  def self.cstr(ptr)
    return "" if ptr.nil? || ptr.null?

    ptr.read_string.force_encoding(Encoding::UTF_8)
  end

  # A borrowed C string, or nil for NULL.
  def self.cstr_or_nil(ptr)
    return nil if ptr.nil? || ptr.null?

    ptr.read_string.force_encoding(Encoding::UTF_8)
  end

  # The stable name of a result code ("TOKEN_EXPIRED"), nil for a code liboidc never returns.
  def self.result_name(code)
    cstr_or_nil(Native.oidc_result_name(code))
  end

  # liboidc's static description of a result code ("token expired").
  def self.result_str(code)
    Native.oidc_result_str(code).dup.force_encoding(Encoding::UTF_8)
  end
end
