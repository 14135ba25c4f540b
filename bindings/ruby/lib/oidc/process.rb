# frozen_string_literal: true

require "json"

module Oidc
  class << self
    # liboidc's process-wide counters as a Hash ("validations", "cache", "discovery",
    # "snapshot", "async", "fork_generation"): see oidc_metrics_json in include/oidc.h.
    def metrics
      Client.need_native(:oidc_metrics_json)
      JSON.parse(take_out_string { |out, len, e| Native.oidc_metrics_json(out, len, e) })
    end

    # A JSON snapshot of the whole process's key cache (fresh key sets with their expiry, and
    # discovered metadata; public data only). Client#cache_export exports one client's.
    def cache_export
      Client.need_native(:oidc_cache_export_json)
      cache_export_native(nil)
    end

    # Import a snapshot from cache_export (e.g. made before forking workers or baked into a
    # serverless image): the keys go through the same checks as fetched ones, expired entries
    # are skipped, and a bad snapshot changes nothing (raises). With `client:`, entries are
    # clamped to that client's TTL maximum. Returns the number of entries taken.
    def cache_import(json, client: nil)
      Client.need_native(:oidc_cache_import_json)
      s = FFISupport.bytes(json.is_a?(String) ? json : JSON.generate(json))
      n = FFI::MemoryPointer.new(:size_t)
      run = ->(ptr) { FFISupport.check { |e| Native.oidc_cache_import_json(ptr, s, s.bytesize, n, e) } }
      client ? client.use { |ptr| run.call(ptr) } : run.call(nil)
      n.read(:size_t)
    end

    # Set (or with nil clear) the process-wide key that authenticates cache snapshots
    # (HMAC-SHA256, 16 to 1024 bytes): cache_export then adds a MAC and cache_import refuses a
    # snapshot without a valid one. Without a key, treat a snapshot as configuration.
    def snapshot_key=(key)
      Client.need_native(:oidc_snapshot_set_key)
      k = key.nil? ? "".b : key.to_s.b
      FFISupport.check { |e| Native.oidc_snapshot_set_key(k, k.bytesize, e) }
    end

    # Bound liboidc's worker pool (used by Client.new(prefetch: :background)): `threads`
    # workers (0 = default) and `queue_capacity` waiting calls. Call it before the first use.
    def async_configure(threads: 0, queue_capacity: 4096)
      Client.need_native(:oidc_async_configure)
      FFISupport.check { |e| Native.oidc_async_configure(Integer(threads), Integer(queue_capacity), e) }
      nil
    end

    # Stop liboidc's worker pool (it serves prefetch: :background and background key refresh)
    # and join its threads, waiting at most `timeout` seconds for calls still running; queued
    # ones are cancelled. The next use starts a new pool. True when every thread was joined,
    # false when some were still busy at the deadline (they end after their call). For a clean
    # shutdown of a pre-fork master or a test process; never needed for correctness.
    def shutdown_workers(timeout: 10)
      Client.need_native(:oidc_async_shutdown)
      ms = (Float(timeout) * 1000).ceil
      raise ArgumentError, "timeout must not be negative" if ms.negative?

      FFISupport.check { |e| Native.oidc_async_shutdown([ms, 0xffff_ffff].min, e) }
      true
    rescue Oidc::Timeout
      false
    end

    private

    def cache_export_native(client_ptr)
      take_out_string { |out, len, e| Native.oidc_cache_export_json(client_ptr, out, len, e) }
    end

    def take_out_string
      out = FFI::MemoryPointer.new(:pointer)
      len = FFI::MemoryPointer.new(:size_t)
      FFISupport.check { |e| yield out, len, e }
      FFISupport.take_string(out.read_pointer, len.read(:size_t))
    end
  end

  module Native
    attach_optional :oidc_metrics_json, %i[pointer pointer pointer], :uint32
    attach_optional :oidc_cache_export_json, %i[pointer pointer pointer pointer], :uint32
    attach_optional :oidc_cache_import_json, %i[pointer pointer size_t pointer pointer], :uint32
    attach_optional :oidc_snapshot_set_key, %i[pointer size_t pointer], :uint32
    attach_optional :oidc_async_configure, %i[uint32 uint32 pointer], :uint32
    # Waits for the pool's threads: release the GVL meanwhile.
    attach_optional :oidc_async_shutdown, %i[uint32 pointer], :uint32, blocking: true
    attach_optional :oidc_validator_builder_set_prefetch, %i[pointer uint32 pointer], :uint32
  end
end
