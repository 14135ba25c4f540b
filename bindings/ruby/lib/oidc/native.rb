# frozen_string_literal: true

require "ffi"
require_relative "version"

module Oidc
  # Raised at require time when liboidc cannot be loaded or does not fit this binding.
  # A ::LoadError (like a missing extension), so it is not swallowed by `rescue => e`.
  class LibraryLoadError < ::LoadError; end

  INSTALL_HINT = <<~HINT.freeze
    Install liboidc (from the liboidc repository: `cargo cinstall --release --prefix /usr/local --libdir lib`,
    then `ldconfig`), or point the binding at a build: `OIDC_LIB=/path/to/liboidc.so` (or
    LD_LIBRARY_PATH=/prefix/lib). This binding #{Oidc::VERSION} needs liboidc #{Oidc.version_string(Oidc::LIB_VERSION_REQUIRED)} (#{Oidc::LIB_SONAME}).
  HINT

  # The raw C ABI (include/oidc.h). Nothing here owns memory: see Oidc::Client & co.
  #
  # Every function that can block (network, file reads) is attached with `blocking: true`, so
  # Ruby releases the GVL while Rust works and other threads keep running.
  module Native
    extend FFI::Library

    # Candidate libraries: $OIDC_LIB alone when set (an explicit choice is never silently
    # replaced), else the linker name, else the SONAME (runtime-only installs have no
    # liboidc.so symlink).
    def self.candidates
      explicit = ENV["OIDC_LIB"]
      return [explicit] if explicit && !explicit.empty?

      ["oidc", Oidc::LIB_SONAME]
    end

    begin
      ffi_lib candidates
    rescue LoadError => e
      raise Oidc::LibraryLoadError, "liboidc could not be loaded (tried #{candidates.join(', ')}): " \
                                    "#{e.message.lines.first&.strip}\n#{Oidc::INSTALL_HINT}"
    end

    typedef :uint32, :oidc_result
    typedef :pointer, :err_out # oidc_error **

    # --- version, names, strings, errors (never block) ---
    attach_function :oidc_version, [], :string
    attach_function :oidc_version_number, [], :uint32
    attach_function :oidc_result_str, [:uint32], :string
    attach_function :oidc_result_name, [:uint32], :pointer # NULL for unknown codes
    attach_function :oidc_string_free, [:pointer], :void
    attach_function :oidc_error_code, [:pointer], :oidc_result
    attach_function :oidc_error_message, [:pointer], :pointer
    attach_function :oidc_error_www_authenticate, [:pointer], :pointer
    attach_function :oidc_error_oauth_error, [:pointer], :pointer
    attach_function :oidc_error_http_status, [:pointer], :uint32
    attach_function :oidc_error_details_json, [:pointer], :pointer
    attach_function :oidc_error_server_error, %i[pointer uint32], :pointer
    attach_function :oidc_error_free, [:pointer], :void
    attach_function :oidc_cache_set_max_entries, [:size_t], :void

    # --- validation client: builder (no blocking except build, which reads CA files) ---
    attach_function :oidc_validator_builder_new, %i[pointer err_out], :oidc_result
    attach_function :oidc_validator_builder_free, [:pointer], :void
    %i[issuer jwks_uri jwks_json algorithms expected_typ ca_file realm].each do |what|
      attach_function :"oidc_validator_builder_set_#{what}", %i[pointer pointer size_t err_out], :oidc_result
    end
    attach_function :oidc_validator_builder_add_audience, %i[pointer pointer size_t err_out], :oidc_result
    attach_function :oidc_validator_builder_add_required_claim, %i[pointer pointer size_t err_out], :oidc_result
    attach_function :oidc_validator_builder_set_any_audience, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_set_leeway_secs, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_set_max_token_bytes, %i[pointer size_t err_out], :oidc_result
    attach_function :oidc_validator_builder_set_max_response_bytes, %i[pointer size_t err_out], :oidc_result
    attach_function :oidc_validator_builder_set_timeouts_ms, %i[pointer uint32 uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_set_allow_http_loopback, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_set_proxy, %i[pointer pointer size_t err_out], :oidc_result
    attach_function :oidc_validator_builder_set_proxy_from_env, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_set_cache_policy_secs,
                    %i[pointer uint32 uint32 uint32 uint32 err_out], :oidc_result
    attach_function :oidc_validator_builder_build, %i[pointer pointer err_out], :oidc_result, blocking: true
    attach_function :oidc_validator_free, [:pointer], :void

    # --- validation (may fetch discovery/JWKS: blocking) ---
    attach_function :oidc_validate, %i[pointer pointer size_t pointer pointer err_out], :oidc_result,
                    blocking: true
    attach_function :oidc_validate_at, %i[pointer pointer size_t int64 pointer pointer err_out], :oidc_result,
                    blocking: true
    attach_function :oidc_validator_prefetch, %i[pointer err_out], :oidc_result, blocking: true

    # --- protocol client ---
    attach_function :oidc_oauth_builder_new, %i[pointer err_out], :oidc_result
    attach_function :oidc_oauth_builder_free, [:pointer], :void
    %i[issuer client_id client_secret auth_method ca_file].each do |what|
      attach_function :"oidc_oauth_builder_set_#{what}", %i[pointer pointer size_t err_out], :oidc_result
    end
    attach_function :oidc_oauth_builder_set_endpoint, %i[pointer pointer size_t pointer size_t err_out],
                    :oidc_result
    attach_function :oidc_oauth_builder_set_timeouts_ms, %i[pointer uint32 uint32 err_out], :oidc_result
    attach_function :oidc_oauth_builder_set_allow_http_loopback, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_oauth_builder_set_proxy, %i[pointer pointer size_t err_out], :oidc_result
    attach_function :oidc_oauth_builder_set_proxy_from_env, %i[pointer uint32 err_out], :oidc_result
    attach_function :oidc_oauth_builder_set_client_cert, %i[pointer pointer size_t pointer size_t err_out],
                    :oidc_result
    attach_function :oidc_oauth_builder_build, %i[pointer pointer err_out], :oidc_result, blocking: true
    attach_function :oidc_oauth_client_free, [:pointer], :void

    # --- cancel handles (one type for every call; never block) ---
    attach_function :oidc_cancel_new, %i[uint32 pointer err_out], :oidc_result
    attach_function :oidc_cancel_trigger, [:pointer], :void
    attach_function :oidc_cancel_is_cancelled, [:pointer], :uint32
    attach_function :oidc_cancel_free, [:pointer], :void

    # --- protocol requests (ABI 0.2): one request object per call, one blocking send ---
    # operations, parameters and fields are uint32_t values of oidc_operation / oidc_param /
    # oidc_field (Oidc::Protocol mirrors them).
    attach_function :oidc_oauth_request_new, %i[pointer uint32 pointer err_out], :oidc_result
    attach_function :oidc_oauth_request_set_string, %i[pointer uint32 pointer size_t err_out], :oidc_result
    attach_function :oidc_oauth_request_add_string, %i[pointer uint32 pointer size_t err_out], :oidc_result
    attach_function :oidc_oauth_request_set_int, %i[pointer uint32 int64 err_out], :oidc_result
    attach_function :oidc_oauth_request_add_param, %i[pointer pointer size_t pointer size_t err_out], :oidc_result
    attach_function :oidc_oauth_request_set_pending, %i[pointer pointer err_out], :oidc_result
    attach_function :oidc_oauth_request_free, [:pointer], :void
    # network, polls (up to their deadline): release the GVL
    attach_function :oidc_oauth_send, %i[pointer pointer pointer err_out], :oidc_result, blocking: true

    # --- protocol responses (strings borrowed from the response; NULL / -1 when absent) ---
    attach_function :oidc_oauth_response_operation, [:pointer], :uint32
    attach_function :oidc_oauth_response_string, %i[pointer uint32], :pointer
    attach_function :oidc_oauth_response_int, %i[pointer uint32], :int64
    attach_function :oidc_oauth_response_json, %i[pointer pointer], :pointer
    attach_function :oidc_oauth_response_free, [:pointer], :void

    # Attach a function that newer libraries export; returns false (and attaches nothing) when
    # the loaded library predates it, so an area file can report it as unsupported.
    def self.attach_optional(name, args, ret, **opts)
      attach_function(name, args, ret, **opts)
      true
    rescue FFI::NotFoundError
      false
    end

    def self.available?(name)
      respond_to?(name)
    end

    # --- version gate (rbnacl style) ---
    have = oidc_version_number
    unless Oidc.lib_version_fits?(have)
      raise Oidc::LibraryLoadError,
            "liboidc #{Oidc.version_string(have)} was loaded (#{oidc_version}), but this binding " \
            "#{Oidc::VERSION} needs #{Oidc.version_string(Oidc::LIB_VERSION_REQUIRED)}-compatible " \
            "(same #{Oidc::LIB_SONAME} ABI).\n#{Oidc::INSTALL_HINT}"
    end
  end

  # Version of the loaded liboidc, e.g. "0.2.0".
  def self.library_version
    Native.oidc_version
  end
end
