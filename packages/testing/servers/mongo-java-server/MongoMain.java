import java.util.List;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Serves mongo-java-server's in-memory backend on 127.0.0.1:PORT until the process is stopped.
 * It reports wire version 13 (MongoDB 5.0): the server's own MONGO_5_0 profile says 8, which the
 * Node.js driver 7 refuses (it needs 9, MongoDB 4.4). The commands keyvent uses are the same.
 */
public class MongoMain {
  static final MongoVersion WIRE_13 = new MongoVersion() {
    public List<Integer> getVersionArray() { return List.of(5, 0, 0); }
    public int getWireVersion() { return 13; }
  };

  public static void main(String[] args) {
    MongoServer server = new MongoServer(new MemoryBackend().version(WIRE_13));
    server.bind("127.0.0.1", Integer.parseInt(args[0]));
    System.out.println("READY " + server.getConnectionString());
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
  }
}
