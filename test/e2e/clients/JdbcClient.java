// pgjdbc against a paxosql node: PreparedStatement, batch insert, transactions
// and ResultSet getters. Run by pgjdbc.test.ts as
// `java -cp <dir>:/usr/share/java/postgresql.jar JdbcClient <jdbc-url>`.
// Prints "ok <check>" per check and exits 1 on the first mismatch.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

public final class JdbcClient {
  private static void check(String name, Object actual, Object expected) {
    boolean same = actual instanceof byte[] && expected instanceof byte[]
        ? Arrays.equals((byte[]) actual, (byte[]) expected)
        : Objects.equals(actual, expected);
    if (!same) {
      System.out.println("FAIL " + name + ": expected " + expected + ", got " + actual);
      System.exit(1);
    }
    System.out.println("ok " + name);
  }

  private static int count(Connection c, String where) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_items WHERE " + where)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0])) {
      check("autocommit by default", c.getAutoCommit(), true);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("CREATE TABLE jdbc_items (id bigint PRIMARY KEY, n int, name varchar(40), flag boolean, "
            + "at timestamp, price numeric(10, 2), data bytea, u uuid)");
      }

      // PreparedStatement: run more than prepareThreshold (5) times, so pgjdbc switches to a named server statement.
      Timestamp at = Timestamp.valueOf("2024-03-04 05:06:07.25");
      UUID u = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
      try (PreparedStatement p = c.prepareStatement(
          "INSERT INTO jdbc_items (id, n, name, flag, at, price, data, u) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (int i = 1; i <= 8; i++) {
          p.setLong(1, 5_000_000_000L + i);
          p.setInt(2, i);
          p.setString(3, "item " + i);
          p.setBoolean(4, i % 2 == 0);
          p.setTimestamp(5, at);
          p.setBigDecimal(6, new BigDecimal("12.34").add(BigDecimal.valueOf(i)));
          p.setBytes(7, new byte[] {0, 1, (byte) 0xfe, (byte) i});
          p.setObject(8, u);
          check("insert " + i, p.executeUpdate(), 1);
        }
      }

      try (PreparedStatement q = c.prepareStatement("SELECT id, n, name, flag, at, price, data, u FROM jdbc_items WHERE n = ?")) {
        for (int round = 0; round < 7; round++) {
          q.setInt(1, 4);
          try (ResultSet rs = q.executeQuery()) {
            check("row found (round " + round + ")", rs.next(), true);
            check("getLong", rs.getLong("id"), 5_000_000_004L);
            check("getInt", rs.getInt("n"), 4);
            check("getString", rs.getString("name"), "item 4");
            check("getBoolean", rs.getBoolean("flag"), true);
            check("getTimestamp", rs.getTimestamp("at"), at);
            check("getBigDecimal", rs.getBigDecimal("price"), new BigDecimal("16.34"));
            check("getBytes", rs.getBytes("data"), new byte[] {0, 1, (byte) 0xfe, 4});
            check("getObject uuid", rs.getObject("u"), u);
            check("single row", rs.next(), false);
          }
        }
      }

      // Batch insert.
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jdbc_items (id, n, name) VALUES (?, ?, ?)")) {
        for (int i = 100; i < 150; i++) {
          p.setLong(1, i);
          p.setInt(2, i);
          p.setString(3, "batch " + i);
          p.addBatch();
        }
        int[] counts = p.executeBatch();
        check("batch size", counts.length, 50);
        check("batch counts", Arrays.stream(counts).allMatch(n -> n == 1), true);
      }
      check("batch rows", count(c, "n >= 100"), 50);

      // Transactions: rollback discards, commit keeps.
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO jdbc_items (id, n) VALUES (1000, 1000)");
        check("own write visible", count(c, "n = 1000"), 1);
        c.rollback();
        check("rolled back", count(c, "n = 1000"), 0);
        s.executeUpdate("INSERT INTO jdbc_items (id, n) VALUES (1001, 1001)");
        s.executeUpdate("UPDATE jdbc_items SET n = n + 1 WHERE id = 1001");
        c.commit();
      }
      c.setAutoCommit(true);
      check("committed", count(c, "n = 1002"), 1);

      // Errors carry the SQLSTATE.
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO jdbc_items (id, n) VALUES (1001, 0)");
        check("duplicate key raised", false, true);
      } catch (SQLException e) {
        check("duplicate key SQLState", e.getSQLState(), "23505");
      }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM no_such_table");
        check("undefined table raised", false, true);
      } catch (SQLException e) {
        check("undefined table SQLState", e.getSQLState(), "42P01");
      }

      // DatabaseMetaData reads the catalog.
      try (ResultSet rs = c.getMetaData().getTables(null, "public", "jdbc_items", new String[] {"TABLE"})) {
        check("metadata finds the table", rs.next(), true);
        check("metadata table name", rs.getString("TABLE_NAME"), "jdbc_items");
      }
    }
    System.out.println("done");
  }
}
