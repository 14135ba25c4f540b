# frozen_string_literal: true

require_relative "test_helper"

# Handles made by a test, closed after it (newest first).
module ClosingAfterTest
  def before_setup
    super
    @closing = []
  end

  def after_teardown
    @closing.reverse_each(&:close)
    super
  end

  def closing(obj)
    @closing << obj
    obj
  end
end

# The ABI 0.2 request object as Ruby sees it: the enum mirrors against the header, liboidc's
# parameter errors, cancel and deadlines (also against the fault fixture), response and request
# lifetimes, and the generic request (blocking, from several threads) against the real IdP.
class RequestObjectTest < Minitest::Test
  include TestSupport
  include ClosingAfterTest

  def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # No network at all: a fixed token endpoint, an issuer nobody listens on.
  def offline(**opts)
    closing(Oidc::OAuthClient.new(issuer: "https://127.0.0.1:9", client_id: "x", client_secret: "s",
                                  endpoints: { token_endpoint: "https://127.0.0.1:9/token" }, **opts))
  end

  # ---- the enums mirror include/oidc.h ----

  def header_enum(prefix)
    File.read(HEADER).scan(/^\s*OIDC_#{prefix}_([A-Z0-9_]+)\s*=\s*(\d+)\s*,/).to_h do |n, v|
      [n.downcase.to_sym, Integer(v)]
    end
  end

  def test_enums_match_the_header
    { "OP" => Oidc::Protocol::OPERATIONS, "PARAM" => Oidc::Protocol::PARAMS,
      "FIELD" => Oidc::Protocol::FIELDS }.each do |prefix, mirror|
      from_header = header_enum(prefix)
      refute_empty from_header, "no OIDC_#{prefix}_* in #{HEADER}"
      assert_equal from_header, mirror, "Oidc::Protocol drifted from OIDC_#{prefix}_*"
    end
  end

  def test_every_param_has_a_writer
    r = closing(offline.request(:client_credentials))
    Oidc::Protocol::PARAMS.each_key { |name| assert_respond_to r, :"#{name}=" }
    assert_raises(ArgumentError) { offline.request(:no_such_operation) }
    assert_raises(ArgumentError) { r.set(:no_such_param, "x") }
  end

  # ---- liboidc decides about parameters; the binding passes its errors on ----

  def assert_invalid_argument(*words)
    e = assert_raises(Oidc::InvalidArgument) { yield }
    assert_equal Oidc::InvalidArgument::CODE, e.code
    words.each { |w| assert_match(/#{w}/i, e.message) }
    e
  end

  def test_wrong_parameter_for_the_operation
    r = closing(offline.request(:client_credentials))
    e = assert_invalid_argument("refresh_token", "client_credentials") { r.refresh_token = "rt" }
    refute_includes e.message, "rt\""
    assert_invalid_argument("code", "client_credentials") { r.code = "c" }
    # an integer parameter the operation does not take
    assert_invalid_argument("max_age") { r.max_age = 10 }
    # what applies is accepted
    r.scope = %w[read write]
    r.resource = "urn:x:api"
    r.use_cache = true
  end

  def test_wrong_kind_and_bad_values
    r = closing(offline.request(:client_credentials))
    assert_invalid_argument("scope") { r.set_string(:scope, "read") }       # a list given to set_string
    assert_invalid_argument("scope") { r.scope = "read write" }             # a space inside a scope item
    rr = closing(offline.request(:refresh))
    assert_invalid_argument("refresh_token") { rr.add_string(:refresh_token, "x") } # a string param to add_string
    assert_invalid_argument("deadline_ms") { rr.set_string(:deadline_ms, "5") }    # an int param to set_string
    assert_invalid_argument("refresh_token") { rr.refresh_token = "" }              # empty required-if-set
  end

  def test_custom_parameters_liboidc_sets_itself_are_refused
    r = closing(offline.request(:refresh))
    %w[grant_type client_id client_secret client_assertion client_assertion_type].each do |name|
      assert_invalid_argument(name) { r.add_param(name, "x") }
    end
    # the wire name of a typed parameter: the message names the one to use
    assert_invalid_argument("REFRESH_TOKEN") { r.add_param("refresh_token", "x") }
    r.add_param("tenant", "t1")
    r.params = { audience_hint: %w[a b], skipped: nil }
  end

  def test_missing_required_parameter_at_send
    r = closing(offline.request(:refresh))
    assert_invalid_argument("refresh_token") { r.send }
    assert_invalid_argument("url") { closing(offline.request(:resource, access_token: "t")).send }
  end

  def test_client_without_client_id_can_only_register
    anon = closing(Oidc::OAuthClient.new(issuer: "https://127.0.0.1:9"))
    assert_nil anon.client_id
    assert_raises(Oidc::InvalidConfig) { anon.request(:client_credentials) }
    closing(anon.request(:register, metadata: { redirect_uris: ["https://app.example/cb"] }))
  end

  # ---- responses of a local operation (no network) ----

  def test_local_operation_response
    c = offline
    req = closing(c.request(:endpoint, endpoint_name: "token_endpoint"))
    resp = closing(req.send)
    assert_kind_of Oidc::OAuthResponse, resp
    assert_equal :endpoint, resp.operation
    assert_equal "https://127.0.0.1:9/token", resp[:url]
    assert_equal({ "url" => "https://127.0.0.1:9/token" }, resp.to_h)
    assert_nil resp[:access_token]
    assert_nil resp[:expires_in]
    assert_equal resp[:url], c.endpoint("token_endpoint")
    # Object#send still works on a request
    assert_equal :endpoint, req.send(:operation)
    assert_equal :endpoint, req.__send__(:operation)
    resp.close
    assert_raises(Oidc::ClosedError) { resp[:url] }
    req.close
    assert_raises(Oidc::ClosedError) { req.send }
    assert_raises(Oidc::ClosedError) { req.endpoint_name = "x" }
  end

  # The per-operation methods free request and response before they return (explicitly, not
  # by the GC), also when the call fails.
  def test_per_operation_methods_free_request_and_response
    c = offline
    req_before = Oidc::Handle.freed_by(:oidc_oauth_request_free)
    resp_before = Oidc::Handle.freed_by(:oidc_oauth_response_free)
    5.times { c.endpoint("token_endpoint") }
    assert_equal req_before + 5, Oidc::Handle.freed_by(:oidc_oauth_request_free)
    assert_equal resp_before + 5, Oidc::Handle.freed_by(:oidc_oauth_response_free)
    assert_raises(Oidc::InvalidArgument) { c.refresh(nil) }
    assert_equal req_before + 6, Oidc::Handle.freed_by(:oidc_oauth_request_free)
    assert_equal resp_before + 5, Oidc::Handle.freed_by(:oidc_oauth_response_free), "no response on failure"
    # the response they read in place is closed when they return: a reference that escapes
    # the block cannot reach freed memory
    leaked = nil
    assert_equal "https://127.0.0.1:9/token", c.send(:perform, :endpoint, endpoint_name: "token_endpoint") { |r|
      leaked = r
      r[:url]
    }
    assert leaked.closed?
    assert_raises(Oidc::ClosedError) { leaked[:url] }
    # and when the block raises
    assert_raises(RuntimeError) { c.send(:perform, :endpoint, endpoint_name: "token_endpoint") { raise "boom" } }
    assert_equal resp_before + 7, Oidc::Handle.freed_by(:oidc_oauth_response_free)
  end

  # Forgotten requests and responses go to the GC (FFI::AutoPointer).
  def test_gc_frees_forgotten_requests_and_responses
    c = offline
    n = 300
    req_before = Oidc::Handle.freed_by(:oidc_oauth_request_free)
    resp_before = Oidc::Handle.freed_by(:oidc_oauth_response_free)
    -> { n.times { c.request(:endpoint, endpoint_name: "token_endpoint").send[:url] } }.call
    freed = [0, 0]
    20.times do
      GC.start(full_mark: true, immediate_sweep: true)
      sleep 0.02
      freed = [Oidc::Handle.freed_by(:oidc_oauth_request_free) - req_before,
               Oidc::Handle.freed_by(:oidc_oauth_response_free) - resp_before]
      break if freed.all? { |f| f >= n * 0.9 }
    end
    assert_operator freed[0], :>=, (n * 0.9).to_i, "only #{freed[0]} of #{n} requests were freed"
    assert_operator freed[1], :>=, (n * 0.9).to_i, "only #{freed[1]} of #{n} responses were freed"
  end

  # ---- cancel and deadlines ----

  def test_triggered_cancel_and_passed_deadline_before_any_network
    c = offline
    cancel = closing(Oidc::Cancel.new)
    cancel.trigger
    assert cancel.cancelled?
    assert_raises(Oidc::Cancelled) { c.client_credentials(cancel: cancel) }
    assert_raises(Oidc::Cancelled) { c.request(:client_credentials).send(cancel: cancel) }
    late = closing(Oidc::Cancel.new(timeout: 0.001))
    sleep 0.02
    refute late.cancelled?
    assert_raises(Oidc::DeadlineExceeded) { c.client_credentials(cancel: late) }
    assert_raises(ArgumentError) { Oidc::Cancel.new(timeout: 0) }
    assert_raises(ArgumentError) { c.request(:client_credentials).send(cancel: cancel, timeout: 1) }
    assert_raises(TypeError) { c.request(:client_credentials).send(cancel: "no") }
  end

  # The fault fixture's token endpoint hangs: the deadline (the request's own, the cancel
  # handle's, or #send's timeout:) and a trigger from another thread end the call with their
  # codes, the hanging request's result (none) dropped.
  # The deadline also bounds the request in flight (liboidc gives it a per-request timeout of
  # what is left), so each call ends at about 0.3 s, far before the client's HTTP timeout. A
  # trigger is seen when the request returns (bounded by the HTTP timeout).
  HTTP_TIMEOUT = 10

  def test_request_in_flight_against_the_fault_fixture
    tk = Testkit.instance(self)
    c = closing(Oidc::OAuthClient.new(issuer: tk.issuer, client_id: "svc", client_secret: "s", ca_file: tk.ca_file,
                                      timeout: HTTP_TIMEOUT))
    c.endpoint("token_endpoint") # discovery now, not under the fault
    tk.fault(path: "/token", mode: "hang", count: 100)
    [-> { c.client_credentials(timeout: 0.3) },
     -> { c.request(:client_credentials).send(timeout: 0.3) },
     -> { c.client_credentials(cancel: closing(Oidc::Cancel.new(timeout: 0.3))) }].each do |call|
      t0 = mono
      assert_raises(Oidc::DeadlineExceeded) { call.call }
      assert_operator mono - t0, :<, 1.5, "the deadline ends the request in flight"
    end

    cancel = closing(Oidc::Cancel.new)
    t0 = mono
    th = Thread.new do
      c.client_credentials(cancel: cancel)
    rescue Oidc::Error => e
      e
    end
    sleep 0.3
    cancel.trigger
    assert_kind_of Oidc::Cancelled, th.value
    assert_operator mono - t0, :<, HTTP_TIMEOUT + 1.5, "the trigger is seen when the request returns"

    # an error status at the token endpoint is the call's error, not a cancel
    tk.fault(path: "/token", mode: "503", count: 1)
    e = assert_raises(Oidc::Error) { c.client_credentials }
    refute_kind_of Oidc::Cancelled, e
  ensure
    tk&.fault(path: "/token", mode: "ok")
  end
end

# The generic request against the real oidc-provider: blocking, reused, from several threads,
# polls started from a response or from a code set by hand.
class RequestObjectIdpTest < Minitest::Test
  include TestSupport
  include ClosingAfterTest

  RESOURCE = "urn:liboidc:rs256"

  def setup
    @idp = Idp.instance(self)
  end

  def oauth(id, secret = nil, **opts)
    closing(Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: id, client_secret: secret, ca_file: @idp.ca_file,
                                  **opts))
  end

  def test_generic_request_blocking_and_reused
    c = oauth("svc-basic", "svc-basic-secret")
    req = closing(c.request(:client_credentials, scope: %w[read write]) { |r| r.resource = [RESOURCE] })
    assert_equal :client_credentials, req.operation
    a = closing(req.send)
    b = closing(req.perform)
    assert_equal :client_credentials, a.operation
    assert_equal "Bearer", a[:token_type]
    assert_includes 1..600, a[:expires_in]
    assert_equal %w[read write], a[:scope].split.sort
    assert_equal a[:access_token], a.to_h["access_token"]
    refute_equal a[:access_token], b[:access_token], "sent twice, two tokens"
    [a.inspect, req.inspect].each { |s| refute_includes s, a[:access_token] }
    tok = Oidc::Token.from_response(a)
    assert_equal "svc-basic", closing(Oidc::Client.new(issuer: @idp.issuer, audiences: RESOURCE, ca_file: @idp.ca_file))
      .validate(tok.access_token).subject

    # the server's error through the generic path
    bad = closing(c.request(:client_credentials, resource: ["urn:liboidc:nope"]))
    e = assert_raises(Oidc::InvalidTarget) { bad.send }
    assert_equal "invalid_target", e.oauth_error
  end

  # The threaded path: one request sent from several Ruby threads at once (the request is
  # read-only at send and the GVL is released), every response freed.
  def test_one_request_from_many_threads
    c = oauth("svc-basic", "svc-basic-secret")
    req = closing(c.request(:client_credentials, scope: %w[read], resource: [RESOURCE]))
    before = Oidc::Handle.freed_by(:oidc_oauth_response_free)
    tokens = Array.new(6) do
      Thread.new do
        resp = req.send
        begin
          resp[:access_token]
        ensure
          resp.close
        end
      end
    end.map(&:value)
    assert_equal 6, tokens.uniq.size
    assert_equal before + 6, Oidc::Handle.freed_by(:oidc_oauth_response_free)
  end

  # Device and CIBA starts keep their response (the polls start from it): freed by #close.
  def test_kept_start_response_is_freed_by_close
    c = oauth("device-app")
    before = Oidc::Handle.freed_by(:oidc_oauth_response_free)
    da = c.device_authorization(scope: %w[openid])
    assert_equal before, Oidc::Handle.freed_by(:oidc_oauth_response_free)
    refute da.closed?
    da.close
    da.close
    assert da.closed?
    assert_equal before + 1, Oidc::Handle.freed_by(:oidc_oauth_response_free)
  end

  # A setter waits for the sends of the same request that are running (they read it with the
  # GVL released).
  def test_setter_waits_for_a_running_send
    c = oauth("device-app")
    da = closing(c.device_authorization(scope: %w[openid]))
    poll = closing(c.request(:device_poll) { |r| r.pending = da })
    poll.deadline_ms = 800
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    th = Thread.new do
      poll.send
    rescue Oidc::Error => e
      e
    end
    sleep 0.2
    poll.deadline_ms = 100 # waits for the running poll
    waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    assert_kind_of Oidc::DeadlineExceeded, th.value
    assert_operator waited, :>=, 0.7, "the setter ran while the send read the request"
  end

  # Polls through the generic request: pending= from the start response, or the code by hand.
  def test_device_poll_by_hand_and_ciba_poll_from_the_response
    c = oauth("device-app")
    start = closing(c.request(:device_authorization, scope: %w[openid]).send)
    assert_equal :device_authorization, start.operation
    refute_nil start[:device_code]
    refute_nil start[:user_code]
    assert_equal 5, start[:interval]
    poll = closing(c.request(:device_poll, device_code: start[:device_code], interval_secs: start[:interval],
                                           expires_in_secs: start[:expires_in]))
    assert_raises(Oidc::DeadlineExceeded) { poll.send(timeout: 0.3) }
    @idp.browser.approve_device(start[:user_code])
    tok = closing(poll.send(timeout: 30))
    assert_equal :device_poll, tok.operation
    refute_nil tok[:access_token]
    refute_nil tok[:id_token]

    k = oauth("svc-pkjwt", private_key: File.read(File.join(ROOT, "tests", "idp", "client-keys", "rsa.pem")),
                           private_key_kid: "client-rsa")
    ciba = closing(k.request(:ciba_request, scope: %w[openid], login_hint: "user-1").send)
    id = ciba[:auth_req_id]
    refute_nil id
    @idp.admin_post("/ciba/approve?auth_req_id=#{URI.encode_www_form_component(id)}")
    tok = closing(k.request(:ciba_poll) { |r| r.pending = ciba }.send(timeout: 30))
    refute_nil tok[:access_token]
    assert_raises(TypeError) { k.request(:ciba_poll).pending = "auth-req-id" }
  end
end
