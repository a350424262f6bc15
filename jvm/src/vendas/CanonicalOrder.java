package vendas;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigDecimal;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.Decimal;

/**
 * The consumer's fast path on the JVM (see vendas/pipeline/fast_path.py): one strict streaming
 * pass over the message bytes that vouches for a plain valid order, or returns null.
 *
 * It only ever says "valid, with these items", and only for messages it can read without
 * doubt: UTF-8 checked (RFC 3629), no duplicate key, exactly the canonical fields, names
 * and keys without surrounding blanks, control characters or surrogates, quantities as JSON
 * integers, money as plain decimals with at most two places. Everything else is left to the
 * VARIANT facts and rules (vendas/pipeline/rules.py), which give the verdict; so does a date, which
 * both paths read with the same SQL expression. The field names (vendas/contract.py) and the
 * limits (vendas/pipeline/rules.py) come as the second argument, never written here.
 */
public final class CanonicalOrder implements UDF2<byte[], String, Row> {
  private static final long serialVersionUID = 1L;
  // The canonical fields, in the order vendas/pipeline/fast_path.py lists their names.
  private static final int ID = 0;
  private static final int CPF = 1;
  private static final int NAMES = 2;
  private static final int QUANTITIES = 3;
  private static final int PRICES = 4;
  private static final int TOTAL = 5;
  private static final int DATE = 6;
  private static final int FIELDS = 7;
  // No duplicate detection in Jackson: a repeated canonical field is caught by read()'s
  // seen-field mask, and the maps' keys must be the (distinct) names in order, so no key
  // can repeat anywhere the fast path accepts; Jackson's check hashed every key instead.
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;
  // Money with more units than this is above every limit (vendas/pipeline/rules.py's largest is
  // below 10^16), and in cents would not fit a long.
  private static final int MAX_UNIT_DIGITS = 16;

  private transient Settings settings;

  /**
   * The FIELDS field names, then maxItems,maxQuantity,maxNameLength,maxPrice,maxOrderValue,
   * comma-separated; parsed once per task.
   */
  private static final class Settings {
    final String text;
    final String[] fields;
    final int maxItems;
    final int maxQuantity;
    final int maxNameLength;
    final long maxPriceCents;
    final long maxOrderValueCents;

    Settings(String text) {
      String[] parts = text.split(",");
      this.text = text;
      fields = Arrays.copyOf(parts, FIELDS);
      maxItems = Integer.parseInt(parts[FIELDS]);
      maxQuantity = Integer.parseInt(parts[FIELDS + 1]);
      maxNameLength = Integer.parseInt(parts[FIELDS + 2]);
      maxPriceCents = new BigDecimal(parts[FIELDS + 3]).movePointRight(2).longValueExact();
      maxOrderValueCents = new BigDecimal(parts[FIELDS + 4]).movePointRight(2).longValueExact();
    }

    /** The canonical field `name` is, or -1. */
    int field(String name) {
      for (int i = 0; i < FIELDS; i++) {
        if (fields[i].equals(name)) return i;
      }
      return -1;
    }
  }

  @Override
  public Row call(byte[] value, String settingsText) {
    Settings current = settings;
    if (current == null || !current.text.equals(settingsText)) {
      current = settings = new Settings(settingsText);
    }
    // '{' first and no NUL in the first bytes: Jackson then reads UTF-8, not UTF-16/32
    if (value == null || value.length < 4 || value[0] != '{' || value[1] == 0 || value[2] == 0
        || value[3] == 0 || !isValidUtf8(value)) {
      return null;
    }
    try (JsonParser parser = FACTORY.createParser(value)) {
      return read(parser, current);
    } catch (IOException | RuntimeException notPlain) {
      return null;
    }
  }

  private static Row read(JsonParser p, Settings settings) throws IOException {
    p.nextToken(); // START_OBJECT: value[0] is '{'
    String id = null;
    String date = null;
    boolean cpf = false;
    String[] names = null;
    Integer[] quantities = null;
    long[] prices = null; // in cents
    long total = -1;
    int seen = 0; // bit i: canonical field i was read
    JsonToken token;
    while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
      int field = settings.field(p.currentName());
      if (field < 0 || (seen & (1 << field)) != 0) return null; // unknown, or repeated
      seen |= 1 << field;
      JsonToken value = p.nextToken();
      switch (field) {
        case ID:
          id = value == JsonToken.VALUE_STRING ? p.getText() : null;
          if (id == null || !isPlain(id)) return null;
          break;
        case CPF:
          if (value != JsonToken.VALUE_STRING) return null;
          cpf = true;
          break;
        case NAMES:
          names = readNames(p, value, settings);
          if (names == null) return null;
          break;
        case QUANTITIES:
          if (names == null || !startsMap(p, value, names)) return null;
          quantities = new Integer[names.length];
          for (int i = 0; i < names.length; i++) {
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT
                || p.getNumberType() != JsonParser.NumberType.INT) return null;
            int quantity = p.getIntValue();
            if (quantity < 1 || quantity > settings.maxQuantity) return null;
            quantities[i] = quantity;
            if (!nextKey(p, names, i + 1)) return null;
          }
          break;
        case PRICES:
          if (names == null || !startsMap(p, value, names)) return null;
          prices = new long[names.length];
          for (int i = 0; i < names.length; i++) {
            prices[i] = cents(p, p.nextToken(), settings.maxPriceCents);
            if (prices[i] < 0 || !nextKey(p, names, i + 1)) return null;
          }
          break;
        case TOTAL:
          total = cents(p, value, settings.maxOrderValueCents);
          if (total < 0) return null;
          break;
        case DATE:
          if (value != JsonToken.VALUE_STRING) return null;
          date = p.getText();
          break;
      }
    }
    if (token != JsonToken.END_OBJECT || p.nextToken() != null || id == null || !cpf
        || quantities == null || prices == null || total < 0 || date == null) {
      return null;
    }
    // In cents, exactly: within the limits a line is below 10^18 (a long, and the precision
    // Spark keeps in one), and an overflow of the sum throws (not vouched).
    Decimal[] lines = new Decimal[names.length];
    long sum = 0;
    for (int i = 0; i < names.length; i++) {
      long line = Math.multiplyExact(prices[i], (long) quantities[i]);
      sum = Math.addExact(sum, line);
      lines[i] = new Decimal().set(line, Decimal.MAX_LONG_DIGITS(), 2);
    }
    return sum == total ? RowFactory.create(id, names, quantities, lines, date) : null;
  }

  /** 1..maxItems distinct plain names, each of at most maxNameLength characters. */
  private static String[] readNames(JsonParser p, JsonToken value, Settings settings)
      throws IOException {
    if (value != JsonToken.START_ARRAY) return null;
    String[] names = new String[settings.maxItems];
    int n = 0;
    JsonToken token;
    while ((token = p.nextToken()) == JsonToken.VALUE_STRING) {
      String name = p.getText();
      if (n == settings.maxItems || !isPlain(name) || name.length() > settings.maxNameLength) {
        return null;
      }
      for (int i = 0; i < n; i++) {
        if (names[i].equals(name)) return null;
      }
      names[n++] = name;
    }
    return token == JsonToken.END_ARRAY && n > 0 ? Arrays.copyOf(names, n) : null;
  }

  /** An object whose first key is names[0]. */
  private static boolean startsMap(JsonParser p, JsonToken value, String[] names)
      throws IOException {
    return value == JsonToken.START_OBJECT && nextKey(p, names, 0);
  }

  /** The next key is names[at], or the object ends right after the last name. */
  private static boolean nextKey(JsonParser p, String[] names, int at) throws IOException {
    JsonToken token = p.nextToken();
    if (at == names.length) return token == JsonToken.END_OBJECT;
    return token == JsonToken.FIELD_NAME && p.currentName().equals(names[at]);
  }

  /**
   * A plain decimal literal (digits, then at most two places), not above `maxCents`, in
   * cents; else -1 (negative, an exponent, more places, or more than MAX_UNIT_DIGITS units).
   * Jackson has checked the JSON number syntax (no leading zeros, digits after a dot).
   */
  private static long cents(JsonParser p, JsonToken value, long maxCents) throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT && value != JsonToken.VALUE_NUMBER_FLOAT) {
      return -1;
    }
    char[] text = p.getTextCharacters();
    int at = p.getTextOffset();
    int end = at + p.getTextLength();
    long units = 0;
    int digits = 0;
    for (; at < end && text[at] >= '0' && text[at] <= '9'; at++) {
      if (++digits > MAX_UNIT_DIGITS) return -1;
      units = units * 10 + (text[at] - '0');
    }
    long fraction = 0;
    int places = 0;
    if (digits > 0 && at < end && text[at] == '.') {
      for (at++; at < end && text[at] >= '0' && text[at] <= '9'; at++) {
        if (++places > 2) return -1;
        fraction = fraction * 10 + (text[at] - '0');
      }
    }
    if (digits == 0 || at != end) return -1;
    long amount = units * 100 + (places == 1 ? fraction * 10 : fraction);
    return amount <= maxCents ? amount : -1;
  }

  /** Not empty; no blank or control character at either end or inside; no surrogate. */
  private static boolean isPlain(String s) {
    int n = s.length();
    if (n == 0 || Character.isWhitespace(s.charAt(0)) || Character.isWhitespace(s.charAt(n - 1))
        || Character.isSpaceChar(s.charAt(0)) || Character.isSpaceChar(s.charAt(n - 1))) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < ' ' || c == 0x7F || Character.isSurrogate(c)) return false;
    }
    return true;
  }

  /** Well-formed UTF-8 (RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF). */
  static boolean isValidUtf8(byte[] b) {
    int i = 0;
    int n = b.length;
    while (i < n) {
      // ASCII, most of every message, eight bytes at a time
      while (i + 8 <= n && ((long) LONGS.get(b, i) & HIGH_BITS) == 0) {
        i += 8;
      }
      if (i >= n) break;
      int c = b[i] & 0xFF;
      if (c < 0x80) {
        i++;
        continue;
      }
      int extra;
      int min;
      if (c >= 0xC2 && c <= 0xDF) {
        extra = 1;
        min = 0x80;
      } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        min = 0x800;
      } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        min = 0x10000;
      } else {
        return false;
      }
      int code = c & (0x3F >> extra);
      for (int k = 1; k <= extra; k++) {
        if (i + k >= n) return false;
        int next = b[i + k] & 0xFF;
        if ((next & 0xC0) != 0x80) return false;
        code = (code << 6) | (next & 0x3F);
      }
      if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
      i += extra + 1;
    }
    return true;
  }
}
