# frozen_string_literal: true

require "json"

module Oidc
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
      out = FFI::MemoryPointer.new(:pointer)
      client.use { |cp| FFISupport.check { |e| Native.oidc_oauth_request_new(cp, @op, out, e) } }
      @handle = Handle.new(out.read_pointer, :oidc_oauth_request_free, "Oidc::OAuthRequest")
      @lock = Mutex.new
      @idle = ConditionVariable.new
      @sending = 0
    end

    # The operation as a Symbol (:refresh).
    def operation
      Protocol::OPERATION_NAMES.fetch(@op, @op)
    end

    # Set a parameter by name (Symbol of Oidc::Protocol::PARAMS): a string, the items of a list
    # (a String or an Array, each added), or an integer. Returns self.
    def set(param, value)
      id = Protocol.param(param)
      case Protocol.param_kind(id)
      when :string then set_string(id, string_value(value))
      when :list then Array(value).each { |v| add_string(id, v) }
      else set_int(id, int_value(value))
      end
      self
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

    # The raw setters, one per C function (the header's kinds; no conversion but to_s/Integer).
    def set_string(param, value)
      id = Protocol.param(param)
      s = FFISupport.bytes(value.to_s)
      write { |rp| FFISupport.check { |e| Native.oidc_oauth_request_set_string(rp, id, s, s.bytesize, e) } }
      self
    end

    def add_string(param, value)
      id = Protocol.param(param)
      s = FFISupport.bytes(value.to_s)
      write { |rp| FFISupport.check { |e| Native.oidc_oauth_request_add_string(rp, id, s, s.bytesize, e) } }
      self
    end

    def set_int(param, value)
      id = Protocol.param(param)
      v = Integer(value)
      write { |rp| FFISupport.check { |e| Native.oidc_oauth_request_set_int(rp, id, v, e) } }
      self
    end

    # A custom parameter (sent as a form/query parameter; a JSON member for registration).
    # May repeat. liboidc refuses the names it sets itself or that have a typed parameter.
    def add_param(name, value)
      n = FFISupport.bytes(name.to_s)
      v = FFISupport.bytes(value.to_s)
      write do |rp|
        FFISupport.check { |e| Native.oidc_oauth_request_add_param(rp, n, n.bytesize, v, v.bytesize, e) }
      end
      self
    end

    # Custom parameters from a Hash; an Array value repeats the parameter, nil skips it.
    def params=(hash)
      hash.to_h.each do |name, value|
        next if value.nil?

        value.is_a?(Array) ? value.each { |v| add_param(name, v) } : add_param(name, value)
      end
    end

    # For polls: take device code / auth_req_id, interval and expiry from the response that
    # started it (an Oidc::DeviceAuthorization, Oidc::CibaRequest or their Oidc::OAuthResponse).
    def pending=(started)
      unless started.respond_to?(:use) && (started.is_a?(OAuthResponse) || started.is_a?(PendingAuthorization))
        raise TypeError, "expected an Oidc::DeviceAuthorization, Oidc::CibaRequest or Oidc::OAuthResponse, " \
                         "got #{started.class}"
      end

      write do |rp|
        started.use { |sp| FFISupport.check { |e| Native.oidc_oauth_request_set_pending(rp, sp, e) } }
      end
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
      raise TypeError, "cancel: expects an Oidc::Cancel" unless cancel.nil? || cancel.is_a?(Cancel)
      if timeout
        raise ArgumentError, "give either cancel: or timeout: (Oidc::Cancel.new(timeout:) has both)" if cancel

        own = cancel = Cancel.new(timeout: timeout)
      end
      out = FFI::MemoryPointer.new(:pointer)
      err = FFI::MemoryPointer.new(:pointer)
      rc = reading do |rp|
        @client.use do
          if cancel
            cancel.use { |cp| Native.oidc_oauth_send(rp, cp, out, err) }
          else
            Native.oidc_oauth_send(rp, nil, out, err)
          end
        end
      end
      raise Error.from_native(rc, err.read_pointer) unless rc.zero?

      OAuthResponse.new(out.read_pointer)
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

    def string_value(value)
      case value
      when Hash, Array then JSON.generate(value) # JSON parameters (metadata)
      else value.to_s
      end
    end

    def int_value(value)
      case value
      when true then 1
      when false then 0
      else Integer(value)
      end
    end

    # A send reads the request while the GVL is released: setters wait for running sends.
    def reading
      @lock.synchronize { @sending += 1 }
      begin
        @handle.use { |rp| yield rp }
      ensure
        @lock.synchronize do
          @sending -= 1
          @idle.broadcast if @sending.zero?
        end
      end
    end

    def write(&block)
      @lock.synchronize do
        @idle.wait(@lock) while @sending.positive?
        @handle.use(&block)
      end
    end
  end

  # The answer of a request (oidc_oauth_response): fields by name, and the JSON liboidc kept.
  # The whole response may hold secrets (tokens, client secrets): #inspect shows none.
  #
  #   resp[:access_token]   # a string field (nil when absent) of Oidc::Protocol::FIELDS
  #   resp[:expires_in]     # an integer field (nil when absent)
  #   resp.json / resp.to_h # the server's JSON body (or the object liboidc made for local operations)
  #
  # Owns the native response: #close frees it now, the GC otherwise. The OAuthClient methods
  # copy what they need into Ruby objects and close it themselves.
  class OAuthResponse
    def initialize(raw)
      @handle = Handle.new(raw, :oidc_oauth_response_free, "Oidc::OAuthResponse")
      @op = Native.oidc_oauth_response_operation(raw)
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
      @handle.use { |rp| Oidc.cstr_or_nil(Native.oidc_oauth_response_string(rp, id)) }
    end

    def int(field)
      id = Protocol.field(field)
      v = @handle.use { |rp| Native.oidc_oauth_response_int(rp, id) }
      v == -1 ? nil : v
    end

    # The JSON text (a copy): the server's body, the resource body as received, the ID token's
    # claims, or the object liboidc made for a local operation (see include/oidc.h).
    def json
      @handle.use do |rp|
        len = FFI::MemoryPointer.new(:size_t)
        ptr = Native.oidc_oauth_response_json(rp, len)
        ptr.null? ? "" : ptr.read_string(len.read(:size_t)).force_encoding(Encoding::UTF_8)
      end
    end

    # #json parsed (contains secrets: never log it).
    def to_h
      JSON.parse(json)
    end

    def close
      @handle.close
      nil
    end

    def closed?
      @handle.closed?
    end

    # For the binding: yields the native pointer (set_pending).
    def use(&block)
      @handle.use(&block)
    end

    def inspect
      "#<Oidc::OAuthResponse #{operation}#{' closed' if closed?}>"
    end
    alias to_s inspect

    def pretty_print(q)
      q.text(inspect)
    end
  end
end
