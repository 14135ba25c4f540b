# frozen_string_literal: true

require "json"

module Oidc
  # The request object's C calls, shared by Oidc::OAuthRequest and OAuthClient's per-operation
  # path (translation only: kinds by the header's numbering, values to_s / Integer). Every
  # function takes the raw request pointer and an oidc_error** buffer (reused: a failure raises
  # at once and frees its error object).
  module RequestNative
    module_function

    def raise_unless_ok(rc, err)
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?
    end

    def create(client_ptr, op, err)
      out = FFI::MemoryPointer.new(:pointer)
      raise_unless_ok(Native.oidc_oauth_request_new(client_ptr, op, out, err), err)
      out.read_pointer
    end

    # Set parameter `param` (name or number) by its kind: a string, the items of a list (a
    # String or an Array, each added), or an integer (true/false: 1/0).
    def set(rp, param, value, err)
      id = Protocol.param(param)
      case Protocol.param_kind(id)
      when :string then set_string(rp, id, string_value(value), err)
      when :list
        value.is_a?(Array) ? value.each { |v| add_string(rp, id, v, err) } : add_string(rp, id, value, err)
      else set_int(rp, id, int_value(value), err)
      end
    end

    def set_string(rp, param, value, err)
      s = FFISupport.arg(value.to_s)
      raise_unless_ok(Native.oidc_oauth_request_set_string(rp, Protocol.param(param), s, s.bytesize, err), err)
    end

    def add_string(rp, param, value, err)
      s = FFISupport.arg(value.to_s)
      raise_unless_ok(Native.oidc_oauth_request_add_string(rp, Protocol.param(param), s, s.bytesize, err), err)
    end

    def set_int(rp, param, value, err)
      raise_unless_ok(Native.oidc_oauth_request_set_int(rp, Protocol.param(param), Integer(value), err), err)
    end

    def add_param(rp, name, value, err)
      n = FFISupport.arg(name.to_s)
      v = FFISupport.arg(value.to_s)
      raise_unless_ok(Native.oidc_oauth_request_add_param(rp, n, n.bytesize, v, v.bytesize, err), err)
    end

    # Custom parameters from a Hash; an Array value repeats the parameter, nil skips it.
    def add_params(rp, hash, err)
      hash.to_h.each do |name, value|
        next if value.nil?

        value.is_a?(Array) ? value.each { |v| add_param(rp, name, v, err) } : add_param(rp, name, value, err)
      end
    end

    # `started`: an Oidc::DeviceAuthorization, Oidc::CibaRequest or Oidc::OAuthResponse.
    def set_pending(rp, started, err)
      unless started.is_a?(OAuthResponse) || started.is_a?(PendingAuthorization)
        raise TypeError, "expected an Oidc::DeviceAuthorization, Oidc::CibaRequest or Oidc::OAuthResponse, " \
                         "got #{started.class}"
      end

      started.use { |sp| raise_unless_ok(Native.oidc_oauth_request_set_pending(rp, sp, err), err) }
    end

    # oidc_oauth_send under `cancel` (an Oidc::Cancel or nil); the raw response pointer.
    def send_request(rp, cancel, err)
      raise TypeError, "cancel: expects an Oidc::Cancel" unless cancel.nil? || cancel.is_a?(Cancel)

      out = FFI::MemoryPointer.new(:pointer)
      rc = if cancel
             cancel.use { |cp| Native.oidc_oauth_send(rp, cp, out, err) }
           else
             Native.oidc_oauth_send(rp, nil, out, err)
           end
      raise_unless_ok(rc, err)
      out.read_pointer
    end

    def string_value(value)
      case value
      when Hash, Array then JSON.generate(value) # JSON parameters (metadata)
      else value
      end
    end

    def int_value(value)
      case value
      when true then 1
      when false then 0
      else value
      end
    end
  end

  # One protocol request (oidc_oauth_request): made for one operation on an Oidc::OAuthClient,
  # parameters set by name, then sent, as often as you like. Every OAuthClient method of the
  # protocol (client_credentials, refresh, introspect, ...) is written over this class; use it
  # directly for what those methods do not say.
  #
  #   resp = oauth.request(:client_credentials, scope: %w[read write]) { |r| r.add_param("tenant", "t1") }
  #               .send(timeout: 5)                  # => Oidc::OAuthResponse
  #   resp[:access_token]; resp[:expires_in]; resp.to_h
  #
  # Parameters (Oidc::Protocol::PARAMS) have a writer each: `r.refresh_token = "..."` (strings;
  # setting again replaces), `r.scope = %w[openid email]` (lists: every call adds its items, in
  # order), `r.max_age = 600` (integers; true/false give 1/0). liboidc decides whether a parameter
  # applies to the operation: a wrong one raises Oidc::InvalidArgument at once, a missing
  # required one at #send. Custom parameters: #add_param / #params=.
  #
  # #send blocks (GVL released) and returns an Oidc::OAuthResponse, or raises the call's
  # Oidc::Error. The request is copied at send: it may be sent again, or from several threads at
  # once; a setter called while a send is running waits for it. The native request is freed by
  # #close, or by the GC.
  class OAuthRequest
    attr_reader :client

    # Use OAuthClient#request. `client` is an Oidc::OAuthClient, `operation` a Symbol of
    # Oidc::Protocol::OPERATIONS (or the header's number).
    def initialize(client, operation)
      raise TypeError, "expected an Oidc::OAuthClient" unless client.is_a?(OAuthClient)

      @client = client
      @op = Protocol.operation(operation)
      raw = client.use { |cp| RequestNative.create(cp, @op, FFI::MemoryPointer.new(:pointer)) }
      @handle = Handle.new(raw, :oidc_oauth_request_free, "Oidc::OAuthRequest")
    end

    # The operation as a Symbol (:refresh).
    def operation
      Protocol::OPERATION_NAMES.fetch(@op, @op)
    end

    # Set a parameter by name (Symbol of Oidc::Protocol::PARAMS): a string, the items of a list
    # (a String or an Array, each added), or an integer. Returns self.
    def set(param, value)
      write { |rp, err| RequestNative.set(rp, param, value, err) }
    end
    alias []= set

    # Set several parameters: `r.update(scope: %w[read], resource: ["urn:x"])`. nil values are
    # skipped. Returns self.
    def update(params)
      params.each { |name, value| set(name, value) unless value.nil? }
      self
    end

    Protocol::PARAMS.each_key do |name|
      define_method(:"#{name}=") { |value| set(name, value) }
    end

    # The raw setters, one per C function (no conversion but to_s / Integer).
    def set_string(param, value)
      write { |rp, err| RequestNative.set_string(rp, param, value, err) }
    end

    def add_string(param, value)
      write { |rp, err| RequestNative.add_string(rp, param, value, err) }
    end

    def set_int(param, value)
      write { |rp, err| RequestNative.set_int(rp, param, value, err) }
    end

    # A custom parameter (sent as a form/query parameter; a JSON member for registration).
    # May repeat. liboidc refuses the names it sets itself or that have a typed parameter.
    def add_param(name, value)
      write { |rp, err| RequestNative.add_param(rp, name, value, err) }
    end

    # Custom parameters from a Hash; an Array value repeats the parameter, nil skips it.
    def params=(hash)
      write { |rp, err| RequestNative.add_params(rp, hash, err) }
    end

    # For polls: take device code / auth_req_id, interval and expiry from the response that
    # started it (an Oidc::DeviceAuthorization, Oidc::CibaRequest or their Oidc::OAuthResponse).
    def pending=(started)
      write { |rp, err| RequestNative.set_pending(rp, started, err) }
    end

    # Send it (oidc_oauth_send) and return the Oidc::OAuthResponse. Blocks, with the GVL
    # released, for the request(s) of the operation (a poll: until tokens, an end or the
    # deadline). `cancel:` an Oidc::Cancel (trigger it from another thread to end the call);
    # `timeout:` seconds, for a call without a cancel handle (a deadline of its own).
    #
    # `send` with a method name as first argument is still Object#send.
    def send(*args, **kw, &block)
      return __send__(*args, **kw, &block) unless args.empty?

      perform(**kw)
    end

    # The same as #send without arguments (for code that prefers not to shadow Object#send).
    def perform(cancel: nil, timeout: nil)
      if timeout
        raise ArgumentError, "give either cancel: or timeout: (Oidc::Cancel.new(timeout:) has both)" if cancel

        own = cancel = Cancel.new(timeout: timeout)
      end
      err = FFI::MemoryPointer.new(:pointer)
      raw = @handle.use { |rp| @client.use { RequestNative.send_request(rp, cancel, err) } }
      OAuthResponse.new(raw)
    ensure
      own&.close
    end

    # Free the native request now (after running sends return). Optional: the GC frees it too.
    def close
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    def inspect
      "#<Oidc::OAuthRequest #{operation}#{' closed' if closed?}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end

    private

    # Setters change the request: they wait for running sends (which read it with the GVL
    # released) and hold new ones off. Returns self.
    def write
      err = FFI::MemoryPointer.new(:pointer)
      @handle.exclusive { |rp| yield rp, err }
      self
    end
  end

  # The answer of a request (oidc_oauth_response): fields by name, and the JSON liboidc kept.
  # The whole response may hold secrets (tokens, client secrets): #inspect shows none.
  #
  #   resp[:access_token]   # a string field (nil when absent) of Oidc::Protocol::FIELDS
  #   resp[:expires_in]     # an integer field (nil when absent)
  #   resp.json / resp.to_h # the server's JSON body (or the object liboidc made for local operations)
  #
  # Owns the native response: #close frees it now, the GC otherwise. (The OAuthClient methods
  # read theirs through a view that lives only inside the call, and free it before they
  # return.)
  class OAuthResponse
    # raw: an owned oidc_oauth_response*.
    def initialize(raw)
      @handle = Handle.new(raw, :oidc_oauth_response_free, "Oidc::OAuthResponse")
      @op = Native.oidc_oauth_response_operation(raw)
    end

    # A response read in place by the binding and freed by it (no AutoPointer): yields a view
    # of the owned `raw` and frees it after the block, also when the block raises. The view is
    # closed afterwards (a use then raises ClosedError).
    def self.borrow(raw)
      view = allocate
      view.send(:init_view, raw)
      begin
        yield view
      ensure
        view.send(:release_view)
      end
    end

    # The operation that made it (Symbol).
    def operation
      Protocol::OPERATION_NAMES.fetch(@op, @op)
    end

    # A field by name: String or Integer by the field's kind; nil when absent.
    def [](field)
      id = Protocol.field(field)
      Protocol.field_kind(id) == :string ? string(id) : int(id)
    end

    def string(field)
      id = Protocol.field(field)
      use { |rp| Oidc.cstr_or_nil(Native.oidc_oauth_response_string(rp, id)) }
    end

    def int(field)
      id = Protocol.field(field)
      v = use { |rp| Native.oidc_oauth_response_int(rp, id) }
      v == -1 ? nil : v
    end

    # Several string fields at once (one pass over the native response).
    def strings(*fields)
      ids = fields.map { |f| Protocol.field(f) }
      use { |rp| ids.map { |id| Oidc.cstr_or_nil(Native.oidc_oauth_response_string(rp, id)) } }
    end

    # The JSON text (a copy): the server's body, the resource body as received, the ID token's
    # claims, or the object liboidc made for a local operation (see include/oidc.h).
    def json
      use { |rp| OAuthResponse.json_of(rp) }
    end

    # For the binding: the JSON of a raw response pointer (a copy).
    def self.json_of(rp)
      len = FFI::MemoryPointer.new(:size_t)
      ptr = Native.oidc_oauth_response_json(rp, len)
      ptr.null? ? "" : ptr.read_string(len.read(:size_t)).force_encoding(Encoding::UTF_8)
    end

    # #json parsed (contains secrets: never log it).
    def to_h
      JSON.parse(json)
    end

    def close
      if @view
        release_view
      else
        @handle.close
      end
      nil
    end

    def closed?
      @view ? @raw.nil? : @handle.closed?
    end

    # For the binding: yields the native pointer (set_pending).
    def use(&block)
      return @handle.use(&block) unless @view
      raise ClosedError, "Oidc::OAuthResponse is closed" if @raw.nil?

      yield @raw
    end

    def inspect
      "#<Oidc::OAuthResponse #{operation}#{' closed' if closed?}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end

    private

    def init_view(raw)
      @view = true
      @raw = raw
      @op = Native.oidc_oauth_response_operation(raw)
    end

    def release_view
      raw = @raw
      @raw = nil
      return if raw.nil?

      Native.oidc_oauth_response_free(raw)
      Handle.count_free(:oidc_oauth_response_free)
    end
  end
end
