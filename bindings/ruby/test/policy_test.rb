# frozen_string_literal: true

require_relative "test_helper"
require "pathname"

# tests/vectors/policy.json: policy documents (text, file, Hash) decide the shared vectors like
# the builder calls; the export reloads to the same decisions and the same text; malformed
# documents fail with INVALID_CONFIG naming their JSON path.
class PolicyTest < Minitest::Test
  include TestSupport

  def equivalents
    e = policy_vectors["equivalents"]
    assert_operator e.size, :>=, 2
    assert_equal %w[multi_issuer.json validation.json], e.map { |x| x["vectors"] }.uniq.sort
    e
  end

  def assert_decides(client, v, what)
    got = decide_all(client, v)
    v["cases"].each do |c|
      assert_equal [c["code"], c["expect"]], got.fetch(c["name"]), "#{what}: vector #{c['name'].inspect}"
    end
  end

  def with_file(text)
    Dir.mktmpdir("oidc-rb-policy") do |d|
      path = File.join(d, "policy.json")
      File.write(path, text)
      yield path
    end
  end

  def test_each_document_decides_its_vectors
    equivalents.each do |eq|
      v = vector_file(eq["vectors"])
      text = JSON.generate(eq["policy"])
      what = "policy for #{eq['vectors']}"

      from_text = Oidc::Client.new(policy: text)
      assert_decides(from_text, v, "#{what} (text)")

      with_file(text) do |path|
        from_file = Oidc::Client.new(policy_file: path)
        assert_decides(from_file, v, "#{what} (file)")
        from_pathname = Oidc::Client.new(policy_file: Pathname.new(path))
        assert_equal from_file.policy_json, from_pathname.policy_json
        [from_file, from_pathname].each(&:close)
      end

      from_hash = Oidc::Client.new(policy: eq["policy"])
      assert_equal from_text.policy_json, from_hash.policy_json, "#{what}: a Hash is the same document"
      from_hash.close

      # the export, reloaded, decides the same and exports the same text again
      exported = from_text.policy_json
      assert_kind_of String, exported
      assert_equal Encoding::UTF_8, exported.encoding
      assert_equal 1, JSON.parse(exported)["version"]
      again = Oidc::Client.new(policy: exported)
      assert_decides(again, v, "#{what} (exported)")
      assert_equal exported, again.policy_json, "#{what}: export -> load -> export is stable"
      assert_equal JSON.parse(exported), again.policy
      with_file(exported) do |path|
        assert_equal exported, Oidc::Client.new(policy_file: path).policy_json
      end
      [from_text, again].each(&:close)
    end
  end

  # The builder calls and the document are two spellings of one configuration: the clients of
  # the vector helpers export what their documents export.
  def test_builder_calls_export_the_same_document
    by_file = equivalents.to_h { |eq| [eq["vectors"], eq["policy"]] }
    [[vector_client, "validation.json"], [multi_client, "multi_issuer.json"]].each do |client, name|
      from_doc = Oidc::Client.new(policy: by_file.fetch(name))
      assert_equal from_doc.policy, client.policy, "#{name}: builder calls vs. document"
      [client, from_doc].each(&:close)
    end
  end

  # The other keywords apply on top of the document (settings replace, issuers add).
  def test_keywords_apply_after_the_document
    eq = equivalents.find { |x| x["vectors"] == "validation.json" }
    client = Oidc::Client.new(policy: eq["policy"], leeway: 7, audiences: "api://extra",
                              issuers: [{ issuer: "https://extra.example" }])
    doc = client.policy
    assert_equal 7, doc["leeway_secs"]
    assert_equal eq["policy"]["audiences"] + ["api://extra"], doc["audiences"]
    assert_equal eq["policy"]["issuer"], doc["issuer"]
    assert_includes doc["issuers"].map { |i| i["issuer"] }, "https://extra.example"
    client.close
  end

  def test_every_malformed_document_names_its_path
    malformed = policy_vectors["malformed"]
    assert_operator malformed.size, :>=, 5
    malformed.each do |m|
      what = "malformed #{m['name'].inspect}"
      e = assert_raises(Oidc::InvalidConfig, what) { Oidc::Client.new(policy: m["document"]) }
      assert_equal 100, e.code, what
      assert_equal "INVALID_CONFIG", e.name, what
      assert_kind_of Oidc::ConfigError, e
      assert_includes e.message, "#{m['path']}:", what

      with_file(m["document"]) do |path|
        e = assert_raises(Oidc::InvalidConfig, "#{what} (file)") { Oidc::Client.new(policy_file: path) }
        assert_includes e.message, "#{m['path']}:", "#{what} (file)"
      end

      # the builder remembers the failure: building after it fails too
      Oidc::NativeBuilder.open("oidc_validator_builder") do |b|
        e = assert_raises(Oidc::InvalidConfig, what) { b.str(:load_policy, m["document"]) }
        assert_includes e.message, "#{m['path']}:", what
        b.str(:set_issuer, "https://issuer.example") # a later valid setting does not rescue it
        e = assert_raises(Oidc::InvalidConfig, "#{what}: build") { b.build }
        assert_equal 100, e.code
      end
    end
  end

  # --- misuse ---

  def test_policy_argument_errors
    assert_raises(TypeError) { Oidc::Client.new(policy: 42) }
    assert_raises(TypeError) { Oidc::Client.new(policy: ["version", 1]) }
    assert_raises(TypeError) { Oidc::Client.new(policy_file: 42) }
    e = assert_raises(Oidc::InvalidUtf8) { Oidc::Client.new(policy: "{\"version\":1,\"issuer\":\"\xff\"}".b) }
    assert_kind_of Oidc::UsageError, e
    assert_raises(Oidc::InvalidUtf8) { Oidc::Client.new(policy_file: "/tmp/\xff.json".b) }
    e = assert_raises(Oidc::InvalidConfig) { Oidc::Client.new(policy_file: "/nonexistent/oidc-policy.json") }
    assert_match(/policy file/, e.message)
    assert_raises(Oidc::InvalidConfig) { Oidc::Client.new(policy: "") }
    # a NUL inside the document is just a byte liboidc judges (not a C string cut short)
    assert_raises(Oidc::InvalidConfig) { Oidc::Client.new(policy: "{\"version\":1}\u0000{") }
  end

  def test_export_after_close
    c = vector_client
    c.close
    assert_raises(Oidc::ClosedError) { c.policy_json }
    assert_raises(Oidc::ClosedError) { c.policy }
  end
end
