/**
 * Stands in for LocalStack's DynamoDB Local agent jar (downloaded from GitHub, which these
 * machines cannot reach; it only lifts DynamoDB Local's 20-GSI limit): a Java agent that does
 * nothing, so `java -javaagent:ddb-local-loader-0.1.jar` starts.
 */
public final class NoopAgent {
  private NoopAgent() {}

  public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
